import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { FunctionName } from '../shared/functions/declarations';
import { functionServices } from '../shared/functions/services';
import type { OperationContext } from '../shared/operations/context';
import { RetentionSweeper, type SweepResult } from '../shared/operations/retention-sweep';
import {
  VaultReconciler,
  type ReconciliationResult,
  type VaultReconcilerOptions,
} from '../shared/operations/vault-reconciliation';
import type { ProcessingLogWriter } from '../shared/processing-log/writer';
import type { DocumentItem } from '../shared/retention/retention-items';
import { localClientOptions } from './client-options';
import type { LocalPipeline } from './environment';

/** What an upload event may say besides its subject, document and category. */
export interface UploadOptions {
  /** Content of the uploaded file. @default a line naming the category */
  readonly body?: string;
  readonly documentDate?: string;
  /** The event's `time`. @default now */
  readonly time?: string;
  /** @default the driver's tenant */
  readonly tenant?: string;
  /**
   * Where the event says the file is. @default the tenant's incoming prefix. A key outside the
   * tenant's prefix is not put (the event points at another tenant's file).
   */
  readonly key?: string;
}

/**
 * Drives a running local pipeline as a producer and an operator would: events to the ingress
 * queue (waiting until the pipeline is idle), files in the upload bucket, retention sweeps at a
 * clock it moves, and reads of the retention items, with the domain services built as the
 * functions build theirs (each from its function's own environment). Used by the demo and the
 * operations tests.
 */
export class PipelineDriver {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** Domain services on the pipeline's resources, with the driver's clock. */
  readonly ctx: OperationContext;
  /** The processing-log writer of the retention sweep, as its function builds it. */
  readonly sweepLog: ProcessingLogWriter;
  /** Events sent so far. */
  sent = 0;
  private clock: Date | undefined;

  constructor(
    readonly pipeline: LocalPipeline,
    private readonly producer: { readonly source: string; readonly tenant: string },
  ) {
    const { endpoint, region } = pipeline.environment;
    const clientOptions = localClientOptions(endpoint, region);
    this.s3 = new S3Client(clientOptions);
    this.sqs = new SQSClient(clientOptions);
    const environmentOf = (name: FunctionName) => pipeline.runtime.findFunction(name).environment;
    // The upload function has every service of an operation context, and a vault that holds the
    // documents key (an erase-only function's vault may not read).
    const services = functionServices('document-upload', environmentOf('document-upload'));
    this.ctx = { ...services, now: () => this.clock ?? new Date() };
    this.sweepLog = functionServices('retention-sweep', environmentOf('retention-sweep')).log;
  }

  /** The pipeline's stack outputs (bucket and queue names). */
  get outputs(): Record<string, string> {
    return this.pipeline.environment.outputs;
  }

  /** Sets the clock of {@link ctx} (undefined: the real clock). */
  setClock(at: Date | undefined): void {
    this.clock = at;
  }

  /** An event of `type` from the driver's source. */
  event(
    type: string,
    data: Record<string, unknown>,
    time = new Date().toISOString(),
    tenant = this.producer.tenant,
  ): Record<string, unknown> {
    const { source } = this.producer;
    return { specversion: '1.0', id: randomUUID(), source, type, time, tenantid: tenant, data };
  }

  /** Puts a file into the upload bucket and returns the `document.uploaded` event for it. */
  async upload(
    subjectId: string,
    documentId: string,
    category: string,
    options: UploadOptions = {},
  ): Promise<Record<string, unknown>> {
    const tenant = options.tenant ?? this.producer.tenant;
    const bucket = this.outputs.UploadBucketName;
    const key = options.key ?? `${tenant}/incoming/${documentId}.pdf`;
    if (key.startsWith(`${tenant}/`)) {
      const body = options.body ?? `upload ${category}`;
      await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }
    const date = options.documentDate ? { documentDate: options.documentDate } : {};
    const data = { subjectId, documentId, category, upload: { bucket, key }, ...date };
    return this.event('privacy.document.uploaded.v1', data, options.time, tenant);
  }

  /** Sends events to the ingress queue and waits until the pipeline is idle. */
  async send(...events: Array<Record<string, unknown>>): Promise<void> {
    for (const e of events) {
      await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.outputs.IngressQueueUrl,
          MessageBody: JSON.stringify(e),
        }),
      );
      this.sent += 1;
    }
    await this.pipeline.runtime.waitForIdle(90_000);
  }

  /** Runs the retention sweep (domain service) with the clock at `at`. */
  async sweep(at: Date): Promise<SweepResult> {
    this.setClock(at);
    try {
      return await new RetentionSweeper(this.ctx).sweep(this.sweepLog);
    } finally {
      this.setClock(undefined);
    }
  }

  /**
   * Runs the vault reconciliation (domain service, as the sweep function runs it after its sweep)
   * with the clock at `at`; `shouldStop` is asked after each page.
   */
  async reconcile(
    at: Date,
    options: VaultReconcilerOptions & { readonly shouldStop?: () => boolean } = {},
  ): Promise<ReconciliationResult> {
    this.setClock(at);
    try {
      const { shouldStop, ...reconcilerOptions } = options;
      return await new VaultReconciler(this.ctx, reconcilerOptions).reconcile(
        this.sweepLog,
        shouldStop,
      );
    } finally {
      this.setClock(undefined);
    }
  }

  /** The keyed pseudonym of a subject. */
  pseudonym(subjectId: string, tenant = this.producer.tenant): Promise<string> {
    return this.ctx.pseudonyms.subject(tenant, subjectId);
  }

  /** The retention items of a subject, by document id. */
  async items(
    subjectId: string,
    tenant = this.producer.tenant,
  ): Promise<Record<string, DocumentItem>> {
    const subject = await this.pseudonym(subjectId, tenant);
    const documents = await this.ctx.store.listDocuments(tenant, subject);
    return Object.fromEntries(documents.map((d) => [d.documentId, d]));
  }

  /** Closes the clients (not the pipeline). */
  destroy(): void {
    this.s3.destroy();
    this.sqs.destroy();
  }
}
