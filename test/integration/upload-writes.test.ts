import { sqsEvent } from '../support/sqs-records';
import type { SQSBatchResponse } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { LocalPipeline } from '../../local/environment';
import { PipelineDriver } from '../../local/pipeline-driver';
import { registerClientPlugin } from '../../shared/aws/client-config';
import { readLogRecords } from '../../shared/processing-log/reader';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { SdkCallCounter, type CallCounts } from '../support/call-counter';
import type { CallInfo } from '../support/call-scopes';
import { instrumentRuntime, type RuntimeInstrumentation } from '../support/runtime-instrumentation';
import { startTestPipeline } from '../helpers/local-pipeline';

/** What the upload function called, by `Service.Operation resource`, between two snapshots. */
function callsOf(
  after: CallCounts,
  before: CallCounts,
): Record<string, { n: number; wru: number }> {
  const calls: Record<string, { n: number; wru: number }> = {};
  for (const [op, c] of Object.entries(after['document-upload'] ?? {})) {
    const b = before['document-upload']?.[op];
    const n = c.attempts - (b?.attempts ?? 0);
    if (n > 0) calls[op] = { n, wru: c.writeUnits - (b?.writeUnits ?? 0) };
  }
  return calls;
}

describe('an upload writes once: one conditional item, a claim of its key, no transaction', () => {
  let pipeline: LocalPipeline;
  let driver: PipelineDriver;
  let counter: SdkCallCounter;
  let timing: RuntimeInstrumentation;
  let unregister: () => void;

  beforeAll(async () => {
    let names: Record<string, string> = {};
    counter = new SdkCallCounter(
      (c: CallInfo) => names[String(c.input.Bucket ?? c.input.TableName ?? '')],
    );
    unregister = registerClientPlugin(counter);
    pipeline = await startTestPipeline({ startRuntime: false });
    timing = instrumentRuntime(pipeline.runtime);
    const { outputs } = pipeline.environment;
    const upload = pipeline.runtime.findFunction('document-upload').environment;
    names = {
      [outputs.UploadBucketName]: 'upload',
      [outputs.RetentionTableName]: 'retention',
      [pipeline.runtime.findFunction('erasure-request').environment.IDEMPOTENCY_TABLE_NAME]:
        'idempotency',
      [upload.KEY_STORE_TABLE_NAME]: 'key-store',
    };
    driver = new PipelineDriver(pipeline, { source: '/billing-service/prod', tenant: 'acme-sas' });
  });
  afterAll(async () => {
    timing?.restore();
    unregister?.();
    driver?.destroy();
    await pipeline?.stop();
  });

  it('stores an upload with production-length ids in one item under 1 KB, without HEAD, and a duplicate changes nothing', async () => {
    // Prepare: ids as long as producers send them (UUIDs, a long tenant), a warm function
    const tenant = 'cabinet-dupont-associes-avocats';
    const warm = await driver.upload(randomUUID(), randomUUID(), 'contract', { tenant });
    await pipeline.runtime.invoke('document-upload', sqsEvent(warm));
    const event = await driver.upload(randomUUID(), randomUUID(), 'accounting-document', {
      tenant,
      documentDate: '2026-03-13',
    });
    const before = counter.snapshot();
    // Act
    const first = (await pipeline.runtime.invoke(
      'document-upload',
      sqsEvent(event),
    )) as SQSBatchResponse;
    const afterFirst = counter.snapshot();
    const again = (await pipeline.runtime.invoke(
      'document-upload',
      sqsEvent(event),
    )) as SQSBatchResponse;
    // Assess: applied once, its records logged once
    expect(first.batchItemFailures).toEqual([]);
    expect(again.batchItemFailures).toEqual([]);
    const records = (
      await readLogRecords<ProcessingLogRecord>(
        driver.s3,
        pipeline.environment.outputs.LogBucketName,
      )
    ).filter((r) => r.eventId === event.id);
    expect(records.map((r) => r.operation).sort()).toEqual(['received', 'stored']);
    // Assess: the first run's writes
    const calls = callsOf(afterFirst, before);
    // the event's key claimed for its payload: one conditional put, never completed afterwards
    expect(Object.keys(calls).filter((k) => k.endsWith('idempotency'))).toEqual([
      'DynamoDB.PutItem idempotency',
    ]);
    expect(calls['DynamoDB.PutItem idempotency']).toEqual({ n: 1, wru: 1 });
    expect(Object.keys(calls).filter((k) => k.startsWith('DynamoDB.TransactWriteItems'))).toEqual(
      [],
    );
    expect(calls['S3.HeadObject upload']).toBeUndefined();
    // the retention item (its receipt included) and the upload's marker, one write unit each; the
    // marker deleted once the upload object is gone (so an erasure finds an upload in flight)
    expect(calls['DynamoDB.PutItem retention']).toEqual({ n: 2, wru: 2 });
    expect(calls['DynamoDB.DeleteItem retention']).toEqual({ n: 1, wru: 1 });
  });

  it('treats a late redelivery of an upload whose document an erasure removed as a replay', async () => {
    // Prepare: an upload stored, then its subject erased
    const tenant = 'acme-sas';
    const subjectId = randomUUID();
    const event = await driver.upload(subjectId, randomUUID(), 'case-document', {
      tenant,
      time: new Date(Date.now() - 60_000).toISOString(),
    });
    await pipeline.runtime.invoke('document-upload', sqsEvent(event));
    const erasure = driver.event(
      'privacy.erasure.requested.v1',
      { subjectId, requestId: randomUUID(), receivedAt: new Date().toISOString() },
      new Date().toISOString(),
      tenant,
    );
    await pipeline.runtime.invoke('erasure-request', sqsEvent(erasure));
    // Act: the upload delivered again
    const again = (await pipeline.runtime.invoke(
      'document-upload',
      sqsEvent(event),
    )) as SQSBatchResponse;
    // Assess: one 'received', one 'stored', nothing logged by the redelivery
    expect(again.batchItemFailures).toEqual([]);
    const records = (
      await readLogRecords<ProcessingLogRecord>(
        driver.s3,
        pipeline.environment.outputs.LogBucketName,
      )
    ).filter((r) => r.eventId === event.id);
    expect(records.map((r) => r.operation).sort()).toEqual(['received', 'stored']);
  });

  it('refuses the same upload key with another payload, and keeps what the first stored', async () => {
    // Prepare: an upload stored, then the same (tenantid, source, id) and document, another date
    const tenant = 'acme-sas';
    const subjectId = randomUUID();
    const event = await driver.upload(subjectId, randomUUID(), 'contract', {
      tenant,
      documentDate: '2026-03-13',
    });
    await pipeline.runtime.invoke('document-upload', sqsEvent(event));
    const before = await driver.items(subjectId, tenant);
    const other = { ...event, data: { ...(event.data as object), documentDate: '2026-01-02' } };
    // Act
    const again = (await pipeline.runtime.invoke(
      'document-upload',
      sqsEvent(other),
    )) as SQSBatchResponse;
    // Assess: not a replay: rejected with its reason, the stored document unchanged
    expect(again.batchItemFailures).toEqual([]);
    const records = (
      await readLogRecords<ProcessingLogRecord>(
        driver.s3,
        pipeline.environment.outputs.LogBucketName,
      )
    ).filter((r) => r.eventId === event.id);
    expect(records.map((r) => r.operation).sort()).toEqual(['received', 'rejected', 'stored']);
    expect(records.find((r) => r.operation === 'rejected')?.reason).toBe(
      'id-reused-with-different-payload',
    );
    expect(await driver.items(subjectId, tenant)).toEqual(before);
  });
});
