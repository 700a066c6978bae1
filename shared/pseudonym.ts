import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { createHmac } from 'node:crypto';

/** How long a tenant's derived pseudonym key stays in memory. */
export const PSEUDONYM_KEY_TTL_MS = 15 * 60 * 1000;

/**
 * Keyed pseudonyms of subject identifiers and of other identifiers a producer chose (document,
 * request and hold ids), each kind in its own domain.
 *
 * The KMS HMAC key never leaves KMS. Per tenant, one `GenerateMac` call derives a tenant key
 * (`HMAC_KMS("privacy-ops/pseudonym/v1/" + tenant)`), cached in memory for a bounded time; the
 * pseudonym of an identifier is `hex(HMAC-SHA256(tenantKey, kind + ":" + id))`. So a batch costs
 * one KMS call per tenant, not one per subject, and the same subject always gets the same
 * pseudonym, which an auditor obtains with `privacy-ops pseudonym`. Without access to the KMS
 * key nobody can compute or reverse a pseudonym.
 */
export class Pseudonymizer {
  private readonly cache = new Map<string, { key: Buffer; expires: number }>();
  /** Derivations in flight: records of one batch run concurrently and share one call. */
  private readonly pending = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
    private readonly now: () => number = Date.now,
    private readonly ttlMs: number = PSEUDONYM_KEY_TTL_MS,
  ) {}

  private async tenantKey(tenant: string): Promise<Buffer> {
    const cached = this.cache.get(tenant);
    if (cached && cached.expires > this.now()) return cached.key;
    let pending = this.pending.get(tenant);
    if (!pending) {
      pending = this.deriveTenantKey(tenant).finally(() => this.pending.delete(tenant));
      this.pending.set(tenant, pending);
    }
    return pending;
  }

  private async deriveTenantKey(tenant: string): Promise<Buffer> {
    const response = await this.kms.send(
      new GenerateMacCommand({
        KeyId: this.keyId,
        MacAlgorithm: 'HMAC_SHA_256',
        Message: Buffer.from(`privacy-ops/pseudonym/v1/${tenant}`, 'utf8'),
      }),
    );
    if (!response.Mac) throw new Error('KMS GenerateMac returned no MAC');
    const key = Buffer.from(response.Mac);
    this.cache.set(tenant, { key, expires: this.now() + this.ttlMs });
    return key;
  }

  /** The pseudonym of a subject of `tenant` (64 hex characters). */
  async subject(tenant: string, subjectId: string): Promise<string> {
    return this.of(tenant, 'subject', subjectId);
  }

  /**
   * The pseudonym of a request id (erasure, access) of `tenant`: what the log, the retention table
   * and the export metadata carry instead of the id a producer chose.
   */
  async request(tenant: string, requestId: string): Promise<string> {
    return this.of(tenant, 'request', requestId);
  }

  /** The pseudonym of a legal hold's id of `tenant` (its own domain: never equal to a request's). */
  async hold(tenant: string, holdId: string): Promise<string> {
    return this.of(tenant, 'hold', holdId);
  }

  /** The pseudonym of any identifier of `tenant`, namespaced by `kind` (e.g. `document`). */
  async of(tenant: string, kind: string, id: string): Promise<string> {
    const key = await this.tenantKey(tenant);
    return createHmac('sha256', key).update(`${kind}:${id}`, 'utf8').digest('hex');
  }
}
