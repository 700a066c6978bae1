import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { LocalPipeline } from '../../local/environment';
import { listObjectVersions } from '../../shared/aws/object-versions';
import type { OperationContext } from '../../shared/operations/context';
import { functionServices } from '../../shared/functions/services';
import type { FunctionName } from '../../shared/functions/declarations';
import { RetentionSweeper } from '../../shared/operations/retention-sweep';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { readLogRecords } from '../../shared/processing-log/reader';
import type { ProcessingLogWriter } from '../../shared/processing-log/writer';
import { type DocumentItem } from '../../shared/retention/retention-items';
import { startTestPipeline } from '../helpers/local-pipeline';

/** A pipeline plus clients and helpers for the operations' integration tests. */
export interface OperationsHarness {
  readonly pipeline: LocalPipeline;
  readonly outputs: Record<string, string>;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** Domain services on the same resources, with a clock the test sets. */
  readonly ctx: OperationContext;
  /** The processing-log writer of the retention sweep, as its function builds it. */
  readonly sweepLog: ProcessingLogWriter;
  setClock(iso: string | undefined): void;
  event(
    type: string,
    data: Record<string, unknown>,
    time?: string,
    tenant?: string,
  ): Record<string, unknown>;
  /** Puts an object into the upload bucket and returns the `document.uploaded` event for it. */
  upload(
    subjectId: string,
    documentId: string,
    category: string,
    body: string,
    extra?: { documentDate?: string; time?: string; tenant?: string },
  ): Promise<Record<string, unknown>>;
  /** Sends events to the ingress queue and waits until the pipeline is idle. */
  send(...events: Array<Record<string, unknown>>): Promise<void>;
  pseudonym(subjectId: string, tenant?: string): Promise<string>;
  items(subjectId: string, tenant?: string): Promise<Record<string, DocumentItem>>;
  logs(): Promise<ProcessingLogRecord[]>;
  /** Runs the sweeper (domain service) with the clock at `iso`. */
  sweep(iso: string): Promise<{ expired: number; skipped: number }>;
  versions(bucket: string, prefix: string): Promise<number>;
  getText(bucket: string, key: string): Promise<string>;
  listKeys(bucket: string, prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts a pipeline for an operations test file. */
export async function startOperationsHarness(): Promise<OperationsHarness> {
  const pipeline = await startTestPipeline();
  const outputs = pipeline.environment.outputs;
  const clientOptions = {
    endpoint: pipeline.endpoint,
    region: 'eu-west-3',
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  };
  const s3 = new S3Client({ ...clientOptions, forcePathStyle: true });
  const sqs = new SQSClient(clientOptions);
  // Each function's own environment, as the runtime gives it.
  const environmentOf = (name: FunctionName) => pipeline.runtime.findFunction(name).environment;
  // The erasure function has every service of an operation context.
  const services = functionServices('erasure-request', environmentOf('erasure-request'));
  let clock: string | undefined;
  const ctx: OperationContext = {
    policy: services.policy,
    store: services.store,
    vault: services.vault,
    pseudonyms: services.pseudonyms,
    now: () => (clock ? new Date(clock) : new Date()),
  };
  const sweepLog = functionServices('retention-sweep', environmentOf('retention-sweep')).log;
  const harness: OperationsHarness = {
    pipeline,
    outputs,
    s3,
    sqs,
    ctx,
    sweepLog,
    setClock: (iso) => {
      clock = iso;
    },
    event: (type, data, time = new Date().toISOString(), tenant = 'acme-sas') => ({
      specversion: '1.0',
      id: randomUUID(),
      source: '/ops-test',
      type,
      time,
      tenantid: tenant,
      data,
    }),
    upload: async (subjectId, documentId, category, body, extra = {}) => {
      const tenant = extra.tenant ?? 'acme-sas';
      const key = `${tenant}/incoming/${documentId}.pdf`;
      await s3.send(
        new PutObjectCommand({ Bucket: outputs.UploadBucketName, Key: key, Body: body }),
      );
      return harness.event(
        'privacy.document.uploaded.v1',
        {
          subjectId,
          documentId,
          category,
          upload: { bucket: outputs.UploadBucketName, key },
          ...(extra.documentDate ? { documentDate: extra.documentDate } : {}),
        },
        extra.time,
        tenant,
      );
    },
    send: async (...events) => {
      for (const e of events)
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: outputs.IngressQueueUrl,
            MessageBody: JSON.stringify(e),
          }),
        );
      await pipeline.runtime.waitForIdle(90_000);
    },
    pseudonym: (subjectId, tenant = 'acme-sas') => ctx.pseudonyms.subject(tenant, subjectId),
    items: async (subjectId, tenant = 'acme-sas') => {
      const subject = await harness.pseudonym(subjectId, tenant);
      const docs = await ctx.store.listDocuments(tenant, subject);
      return Object.fromEntries(docs.map((d) => [d.documentId, d]));
    },
    logs: () => readLogRecords<ProcessingLogRecord>(s3, outputs.LogBucketName),
    sweep: async (iso) => {
      harness.setClock(iso);
      try {
        const result = await new RetentionSweeper(ctx).sweep(sweepLog);
        return { expired: result.expired, skipped: result.skipped };
      } finally {
        harness.setClock(undefined);
      }
    },
    versions: async (bucket, prefix) => (await listObjectVersions(s3, { bucket, prefix })).length,
    getText: async (bucket, key) => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return got.Body!.transformToString();
    },
    listKeys: async (bucket, prefix) => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    stop: async () => {
      await pipeline.stop();
      s3.destroy();
      sqs.destroy();
    },
  };
  return harness;
}
