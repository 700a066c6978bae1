import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { FunctionName } from '../shared/functions/declarations';
import { functionServices } from '../shared/functions/services';
import type { OperationContext } from '../shared/operations/context';
import { RetentionSweeper } from '../shared/operations/retention-sweep';
import type { ProcessingLogWriter } from '../shared/processing-log/writer';
import type { DocumentItem } from '../shared/retention/retention-items';
import { localClientOptions } from './client-options';
import type { LocalPipeline } from './environment';

/** The tenant the demo acts for. */
export const DEMO_TENANT = 'acme-sas';

/** One expectation of the demo scenario and whether it held. */
export interface DemoCheck {
  readonly name: string;
  readonly ok: boolean;
}

/** What an upload event of the demo may say besides its subject, document and category. */
export interface DemoUpload {
  readonly documentDate?: string;
  readonly time?: string;
  /** Where the event says the file is (default: the tenant's incoming prefix). */
  readonly key?: string;
}

/**
 * What the demo scenario acts through: clients on the local endpoint, the domain services built
 * as the functions build theirs (each from its function's own environment), a clock the sweeps
 * move, and the checks so far.
 */
export class DemoSession {
  readonly s3: S3Client;
  readonly checks: DemoCheck[] = [];
  sent = 0;
  private readonly sqs: SQSClient;
  private readonly ctx: OperationContext;
  private readonly sweepLog: ProcessingLogWriter;
  private clock: Date | undefined;

  constructor(
    private readonly pipeline: LocalPipeline,
    private readonly say: (line: string) => void,
  ) {
    const { endpoint, region } = pipeline.environment;
    const clientOptions = localClientOptions(endpoint, region);
    this.s3 = new S3Client(clientOptions);
    this.sqs = new SQSClient(clientOptions);
    const environmentOf = (name: FunctionName) => pipeline.runtime.findFunction(name).environment;
    const services = functionServices('erasure-request', environmentOf('erasure-request'));
    this.ctx = { ...services, now: () => this.clock ?? new Date() };
    this.sweepLog = functionServices('retention-sweep', environmentOf('retention-sweep')).log;
  }

  /** The pipeline's stack outputs (bucket and queue names). */
  get outputs(): Record<string, string> {
    return this.pipeline.environment.outputs;
  }

  /** Records whether an expectation held, and says it. */
  check(name: string, ok: boolean): void {
    this.checks.push({ name, ok });
    this.say(`${ok ? 'ok  ' : 'FAIL'}    ${name}`);
  }

  /** An event of `type` from the demo's source, for the demo's tenant. */
  event(type: string, data: Record<string, unknown>, time = new Date().toISOString()) {
    return {
      specversion: '1.0',
      id: randomUUID(),
      source: '/demo',
      type,
      time,
      tenantid: DEMO_TENANT,
      datacontenttype: 'application/json',
      data,
    };
  }

  /** Puts a file into the upload bucket (when the key is the tenant's) and returns its event. */
  async upload(subjectId: string, documentId: string, category: string, extra: DemoUpload = {}) {
    const bucket = this.outputs.UploadBucketName;
    const key = extra.key ?? `${DEMO_TENANT}/incoming/${documentId}.pdf`;
    if (key.startsWith(`${DEMO_TENANT}/`))
      await this.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: `demo ${category}` }),
      );
    return this.event(
      'privacy.document.uploaded.v1',
      {
        subjectId,
        documentId,
        category,
        upload: { bucket, key },
        ...(extra.documentDate ? { documentDate: extra.documentDate } : {}),
      },
      extra.time,
    );
  }

  /** Sends events to the ingress queue and waits until the pipeline is idle. */
  async send(label: string, ...events: Array<Record<string, unknown>>): Promise<void> {
    this.say(`send    ${label}`);
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
  async sweep(at: Date): Promise<void> {
    this.clock = at;
    try {
      const result = await new RetentionSweeper(this.ctx).sweep(this.sweepLog);
      this.say(
        `sweep   clock ${at.toISOString()}: ${result.expired} expired, ${result.skipped} skipped`,
      );
    } finally {
      this.clock = undefined;
    }
  }

  /** The retention items of a subject of the demo's tenant, by document id. */
  async items(subjectId: string): Promise<Record<string, DocumentItem>> {
    const subject = await this.ctx.pseudonyms.subject(DEMO_TENANT, subjectId);
    return Object.fromEntries(
      (await this.ctx.store.listDocuments(DEMO_TENANT, subject)).map((d) => [d.documentId, d]),
    );
  }

  /** Closes the clients. */
  destroy(): void {
    this.s3.destroy();
    this.sqs.destroy();
  }
}
