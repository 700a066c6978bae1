import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalPipeline, LocalPipelineOptions } from '../../local/environment';
import { PipelineDriver } from '../../local/pipeline-driver';
import { listObjectVersions } from '../../shared/aws/object-versions';
import type { OperationContext } from '../../shared/operations/context';
import type { ReconciliationResult } from '../../shared/operations/vault-reconciliation';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { readLogRecords } from '../../shared/processing-log/reader';
import type { ProcessingLogWriter } from '../../shared/processing-log/writer';
import { type DocumentItem } from '../../shared/retention/retention-items';
import { startTestPipeline, type TestPipelineOptions } from '../helpers/local-pipeline';

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
    extra?: { documentDate?: string; time?: string; tenant?: string; key?: string },
  ): Promise<Record<string, unknown>>;
  /** Sends events to the ingress queue and waits until the pipeline is idle. */
  send(...events: Array<Record<string, unknown>>): Promise<void>;
  /**
   * The reordering of an erasure and a later upload: a case document sent 2 s after an erasure of
   * `subjectId` is stored first, then the erasure (request `requestId`, timed now) is processed.
   */
  erasureAfterLaterUpload(
    subjectId: string,
    documentId: string,
    body: string,
    requestId: string,
  ): Promise<void>;
  pseudonym(subjectId: string, tenant?: string): Promise<string>;
  items(subjectId: string, tenant?: string): Promise<Record<string, DocumentItem>>;
  logs(): Promise<ProcessingLogRecord[]>;
  /** Runs the sweeper (domain service) with the clock at `iso`. */
  sweep(iso: string): Promise<{ expired: number; skipped: number }>;
  /** Runs the vault reconciliation (domain service) with the clock at `iso`. */
  reconcile(
    iso: string,
    options?: Parameters<PipelineDriver['reconcile']>[1],
  ): Promise<ReconciliationResult>;
  versions(bucket: string, prefix: string): Promise<number>;
  getText(bucket: string, key: string): Promise<string>;
  listKeys(bucket: string, prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts a pipeline for an operations test file (with the runtime's and the test's options). */
export async function startOperationsHarness(
  options: LocalPipelineOptions & TestPipelineOptions = {},
): Promise<OperationsHarness> {
  const pipeline = await startTestPipeline(options);
  const driver = new PipelineDriver(pipeline, { source: '/ops-test', tenant: 'acme-sas' });
  const { s3, sqs, ctx, sweepLog, outputs } = driver;
  return {
    pipeline,
    outputs,
    s3,
    sqs,
    ctx,
    sweepLog,
    setClock: (iso) => driver.setClock(iso ? new Date(iso) : undefined),
    event: (type, data, time, tenant) => driver.event(type, data, time, tenant),
    upload: (subjectId, documentId, category, body, extra = {}) =>
      driver.upload(subjectId, documentId, category, { ...extra, body }),
    send: (...events) => driver.send(...events),
    erasureAfterLaterUpload: async (subjectId, documentId, body, requestId) => {
      const erasureTime = new Date().toISOString();
      const later = new Date(Date.parse(erasureTime) + 2_000).toISOString();
      await driver.send(
        await driver.upload(subjectId, documentId, 'case-document', { body, time: later }),
      );
      await driver.send(
        driver.event(
          'privacy.erasure.requested.v1',
          { subjectId, requestId, receivedAt: erasureTime },
          erasureTime,
        ),
      );
    },
    pseudonym: (subjectId, tenant) => driver.pseudonym(subjectId, tenant),
    items: (subjectId, tenant) => driver.items(subjectId, tenant),
    logs: () => readLogRecords<ProcessingLogRecord>(s3, outputs.LogBucketName),
    sweep: async (iso) => {
      const { expired, skipped } = await driver.sweep(new Date(iso));
      return { expired, skipped };
    },
    reconcile: (iso, options) => driver.reconcile(new Date(iso), options),
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
      driver.destroy();
    },
  };
}
