import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { localClientOptions } from './client-options';
import type { LocalReplica, ProvisionedEnvironment } from './provision';

/**
 * Copies what S3 replication would: the objects of each replicated prefix that the destination
 * does not have yet, with their metadata (new objects only; deletions are not replicated). Runs
 * every `intervalMs` once started, and on demand ({@link sync}).
 */
export class LocalReplicator {
  private readonly s3: S3Client;
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly environment: ProvisionedEnvironment,
    private readonly intervalMs = 2_000,
  ) {
    this.s3 = new S3Client(localClientOptions(environment.endpoint, environment.region));
  }

  /** Copies every object not replicated yet; returns how many were copied. */
  sync(): Promise<number> {
    this.running ??= this.copyAll().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Starts replicating every interval (nothing to do without replicas). */
  start(): void {
    if (this.timer || (this.environment.replicas ?? []).length === 0) return;
    this.timer = setInterval(() => void this.sync().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  /** Stops, after the copy under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    this.s3.destroy();
  }

  private async copyAll(): Promise<number> {
    let copied = 0;
    for (const replica of this.environment.replicas ?? []) copied += await this.copy(replica);
    return copied;
  }

  private async copy(replica: LocalReplica): Promise<number> {
    const present = new Set(await this.keys(replica.destination, replica.prefix));
    let copied = 0;
    for (const key of await this.keys(replica.source, replica.prefix)) {
      if (present.has(key)) continue;
      const got = await this.s3.send(new GetObjectCommand({ Bucket: replica.source, Key: key }));
      await this.s3.send(
        new PutObjectCommand({
          Bucket: replica.destination,
          Key: key,
          Body: Buffer.from(await got.Body!.transformToByteArray()),
          Metadata: got.Metadata,
          ContentType: got.ContentType,
          ContentEncoding: got.ContentEncoding,
        }),
      );
      copied += 1;
    }
    return copied;
  }

  private async keys(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }
}
