import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { EventType } from '../../events';
import type { LocalPipeline } from '../../local/environment';
import {
  FaultInjector,
  inScope,
  instrumentRuntime,
  quantile,
  SdkCallCounter,
  totalsByOperation,
} from '../../local/sdk-instrumentation';
import { registerClientPlugin } from '../../shared/aws/client-config';
import {
  drainQueue,
  expectedOperations,
  findPlaceholders,
  FUNCTION_OF_TYPE,
  generateWorkload,
  listVersions,
  putUploads,
  readLogRecords,
  sendBodies,
  uploadsStoreDocuments,
  type InvalidKind,
  type WorkloadMessage,
} from '../../bench/workload';
import { seededRandom } from '../../local/sdk-instrumentation';
import { startTestPipeline } from '../helpers/local-pipeline';

// The fault-injection suite (issue 7 item 1): N events of mixed types through the local runtime
// with 10% of the handlers' AWS calls failing transiently (throttling, 5xx, timeouts; 30% of them
// after the real call, so effects happen twice at the SDK level), 5% duplicate deliveries, two
// crashes in the middle of a batch (intake while forwarding, document-upload between records)
// and 2% invalid messages of seven rejection kinds. Afterwards it counts effects and prints them.

/**
 * Default size: 300 events ran in 177 s on the 2 shared cores of the development machine (most of
 * it the 31 s retry delay); 1,000 had not finished after 9.5 minutes, so 10,000 cannot fit in a CI budget of a
 * few minutes there. `FAULT_EVENTS=10000` runs the size of issue 7.
 */
const EVENTS = Number(process.env.FAULT_EVENTS ?? 300);
const FAULT_RATE = Number(process.env.FAULT_RATE ?? 0.1);
const DUPLICATE_SHARE = 0.05;
const SEED = Number(process.env.FAULT_SEED ?? 20260314);
/**
 * Visibility timeout of a failed message. In AWS it is the queue's (six times the function
 * timeout, 180 s), longer than the in-progress window of an idempotency record (the function's
 * remaining time, at most 30 s); the local runtime shortens it, but not below that window, or a
 * redelivery racing an in-progress record would burn its receives and be dead-lettered.
 */
const RETRY_AFTER_SECONDS = 31;
const MIX: Partial<Record<EventType, number>> = {
  'privacy.document.uploaded.v1': 50,
  'privacy.account.closed.v1': 10,
  'privacy.erasure.requested.v1': 10,
  'privacy.access.requested.v1': 10,
  'privacy.legal-hold.placed.v1': 10,
  'privacy.legal-hold.released.v1': 10,
};

interface Findings {
  readonly sent: { distinct: number; valid: number; invalid: number; duplicates: number };
  readonly excluded: string[];
  readonly lost: string[];
  readonly duplicated: string[];
  readonly invalidMissing: string[];
  readonly invalidWrongReason: string[];
  readonly validDeadLettered: string[];
  readonly deadLetterCopies: number;
  readonly orphans: string[];
  readonly uploadsChecked: boolean;
  readonly extraVersions: { log: number; vault: number };
  readonly counts: Record<string, number | string>;
}

describe(`fault injection: ${EVENTS} events, ${FAULT_RATE * 100}% transient AWS faults, ${DUPLICATE_SHARE * 100}% duplicates, crashes mid-batch`, () => {
  let pipeline: LocalPipeline;
  let findings: Findings;
  const unregister: Array<() => void> = [];

  beforeAll(async () => {
    const started = Date.now();
    const phase: Record<string, number> = {};
    const lap = (name: string, since: number) => (phase[name] = (Date.now() - since) / 1000);

    // Instrumentation first: every client the handlers and pollers build from now on carries it.
    const counter = new SdkCallCounter();
    const injector = new FaultInjector({
      probability: 0,
      seed: SEED,
      counter,
      afterCallShare: 0.3,
    });
    unregister.push(registerClientPlugin(counter), registerClientPlugin(injector));
    pipeline = await startTestPipeline({
      concurrencyPerMapping: Number(process.env.FAULT_CONCURRENCY ?? 2),
      failedMessageVisibilitySeconds: RETRY_AFTER_SECONDS,
    });
    const timing = instrumentRuntime(pipeline.runtime);
    unregister.push(() => timing.restore());
    const { outputs } = pipeline.environment;
    const clientOptions = {
      endpoint: pipeline.endpoint,
      region: 'eu-west-3',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
    const s3 = new S3Client({ ...clientOptions, forcePathStyle: true });
    const sqs = new SQSClient(clientOptions);
    const dynamo = new DynamoDBClient(clientOptions);

    // Which types can run today: placeholders are excluded, and said so.
    const candidates = ['intake', ...new Set(Object.values(FUNCTION_OF_TYPE))];
    const placeholders = await findPlaceholders(pipeline.runtime, candidates);
    const excludedFns = new Set(placeholders.map((p) => p.fn));
    if (excludedFns.has('intake'))
      throw new Error(`intake is a placeholder: ${placeholders[0].why}`);
    const mix = Object.fromEntries(
      Object.entries(MIX).filter(([t]) => !excludedFns.has(FUNCTION_OF_TYPE[t as EventType])),
    );
    const storesDocuments = !excludedFns.has('document-upload') && uploadsStoreDocuments();
    const invalidKinds = (
      [
        'invalid-json',
        'unknown-type',
        'invalid-field',
        'wrong-bucket',
        'key-outside-tenant-prefix',
        'key-traversal',
        'upload-missing',
      ] as InvalidKind[]
    ).filter((k) => k !== 'upload-missing' || storesDocuments);

    // The workload, its upload objects, and 5% of the messages sent twice (later in the stream).
    const messages = generateWorkload({
      events: EVENTS,
      seed: SEED,
      uploadBucket: outputs.UploadBucketName,
      mix,
      invalidKinds,
      source: '/fault-suite',
    });
    const random = seededRandom(SEED + 1);
    const order: WorkloadMessage[] = [...messages];
    const duplicates = messages.filter(() => random() < DUPLICATE_SHARE);
    for (const d of duplicates) {
      const at = Math.floor(random() * order.length);
      order.splice(at, 0, d);
    }
    let t = Date.now();
    await putUploads(s3, outputs.UploadBucketName, messages);
    lap('put uploads', t);

    // Crashes: intake dies after its 2nd forwarding call of a batch; document-upload dies when
    // starting the 5th record of a batch (four records done, their log object never written).
    const idempotencyTable = process.env.IDEMPOTENCY_TABLE_NAME;
    const crashes: string[] = [];
    injector.crashOnce({
      match: (c) => c.scope === 'intake' && c.operation === 'SendMessageBatch',
      nth: 2,
      onCrash: () => crashes.push('intake: 2nd SendMessageBatch of a batch'),
    });
    if (!excludedFns.has('document-upload'))
      injector.crashOnce({
        match: (c) =>
          c.scope === 'document-upload' &&
          c.operation === 'PutItem' &&
          c.input.TableName === idempotencyTable,
        nth: 5,
        onCrash: () => crashes.push('document-upload: before the 5th record of a batch'),
      });
    injector.setProbability(FAULT_RATE);
    counter.reset();

    t = Date.now();
    await sendBodies(
      sqs,
      outputs.IngressQueueUrl,
      order.map((m) => m.body),
    );
    lap('send', t);
    t = Date.now();
    await inScope('harness', () => pipeline.runtime.waitForIdle(25 * 60_000));
    lap('process', t);
    injector.setProbability(0);
    const processSeconds = phase.process;

    // Read back every effect.
    t = Date.now();
    const log = await readLogRecords(s3, outputs.LogBucketName);
    const deadLetters = await drainQueue(sqs, outputs.DeadLetterQueueUrl);
    const vaultKeys: string[] = [];
    const retentionDocs = new Map<string, number>();
    let orphans: string[] = [];
    let vaultVersions = 0;
    if (storesDocuments) {
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: outputs.VaultBucketName, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) vaultKeys.push(o.Key!);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      vaultVersions = (await listVersions(s3, outputs.VaultBucketName)).filter(
        (v) => !v.deleteMarker,
      ).length;
      let start: Record<string, never> | undefined;
      do {
        const page = await dynamo.send(
          new ScanCommand({ TableName: outputs.RetentionTableName, ExclusiveStartKey: start }),
        );
        for (const raw of page.Items ?? []) {
          const item = unmarshall(raw);
          if (item.kind === 'document' && typeof item.documentId === 'string')
            retentionDocs.set(item.documentId, (retentionDocs.get(item.documentId) ?? 0) + 1);
        }
        start = page.LastEvaluatedKey as typeof start;
      } while (start);
      orphans = (await listVersions(s3, outputs.UploadBucketName)).map((v) => v.key);
    }
    lap('read back', t);

    // Effects per event.
    const byEvent = new Map<string, typeof log.records>();
    for (const r of log.records) {
      if (!r.eventId) continue;
      const list = byEvent.get(r.eventId) ?? [];
      list.push(r);
      byEvent.set(r.eventId, list);
    }
    const recordIdCounts = new Map<string, number>();
    for (const r of log.records)
      recordIdCounts.set(r.recordId, (recordIdCounts.get(r.recordId) ?? 0) + 1);
    const vaultByDocument = new Map<string, number>();
    for (const key of vaultKeys) {
      const documentId = key.split('/').pop()!;
      vaultByDocument.set(documentId, (vaultByDocument.get(documentId) ?? 0) + 1);
    }
    const lost: string[] = [];
    const duplicated: string[] = [];
    const valid = messages.filter((m) => !m.invalid);
    for (const m of valid) {
      const records = (byEvent.get(m.eventId!) ?? []).filter(
        (r) => r.eventSource === '/fault-suite',
      );
      for (const op of expectedOperations(m.type!, storesDocuments)) {
        const n = records.filter((r) => r.operation === op).length;
        if (n === 0) lost.push(`${m.eventId} (${m.type}): no '${op}' log record`);
        if (n > 1) duplicated.push(`${m.eventId} (${m.type}): ${n} '${op}' log records`);
      }
      if (storesDocuments && m.upload) {
        const stored = vaultByDocument.get(m.documentId!) ?? 0;
        const items = retentionDocs.get(m.documentId!) ?? 0;
        if (stored === 0) lost.push(`${m.eventId}: no vault object`);
        if (items === 0) lost.push(`${m.eventId}: no retention item`);
        if (stored > 1) duplicated.push(`${m.eventId}: ${stored} vault objects`);
        if (items > 1) duplicated.push(`${m.eventId}: ${items} retention items`);
      }
    }
    for (const [recordId, n] of recordIdCounts)
      if (n > 1) duplicated.push(`log record ${recordId} written ${n} times`);

    // Invalid messages: each in the dead-letter queue with its reason; no valid event there.
    const letters = new Map<string, Array<string | undefined>>();
    for (const d of deadLetters) letters.set(d.body, [...(letters.get(d.body) ?? []), d.reason]);
    const invalid = messages.filter((m) => m.invalid);
    const invalidMissing: string[] = [];
    const invalidWrongReason: string[] = [];
    for (const m of invalid) {
      const reasons = letters.get(m.body);
      if (!reasons) invalidMissing.push(`${m.eventId} (${m.invalid})`);
      else if (!reasons.every((r) => r?.startsWith(m.expectedReason!)))
        invalidWrongReason.push(`${m.eventId} (${m.invalid}): ${reasons.join(', ')}`);
    }
    const validBodies = new Set(valid.map((m) => m.body));
    const validDeadLettered = deadLetters
      .filter((d) => validBodies.has(d.body))
      .map((d) => `${JSON.parse(d.body).id}: ${d.reason ?? 'redrive (receive count exhausted)'}`);
    const deadLetterCopies = deadLetters.length - letters.size;

    const totals = totalsByOperation(
      counter.snapshot(),
      (s) => !s.startsWith('poller') && s !== 'harness',
    );
    const attempts = Object.values(totals).reduce((n, c) => n + c.attempts, 0);
    const failedCalls = Object.values(totals).reduce((n, c) => n + c.failedCalls, 0);
    const rejectedLogged = log.records.filter((r) => r.operation === 'rejected').length;
    findings = {
      sent: {
        distinct: messages.length,
        valid: valid.length,
        invalid: invalid.length,
        duplicates: duplicates.length,
      },
      excluded: placeholders.map((p) => `${p.fn}: ${p.why}`),
      lost,
      duplicated,
      invalidMissing,
      invalidWrongReason,
      validDeadLettered,
      deadLetterCopies,
      orphans,
      uploadsChecked: storesDocuments,
      extraVersions: { log: log.versions - log.objects, vault: vaultVersions - vaultKeys.length },
      counts: {
        'handler SDK attempts': attempts,
        'faults injected': injector.stats.injected,
        'faults: throttling / 5xx / timeout': `${injector.stats.byKind.throttling} / ${injector.stats.byKind['server-error']} / ${injector.stats.byKind.timeout}`,
        'faults: before / after the real call': `${injector.stats.byTiming.before} / ${injector.stats.byTiming.after}`,
        'measured fault rate (injected / attempts)': (
          injector.stats.injected / Math.max(1, attempts)
        ).toFixed(3),
        'calls ending in an error after SDK retries (incl. expected 404s, conditional failures)':
          failedCalls,
        'invocation ms p50 / p95 / max': Object.entries(timing.durationsMs)
          .map(
            ([fn, d]) =>
              `${fn} ${quantile(d, 0.5).toFixed(0)}/${quantile(d, 0.95).toFixed(0)}/${quantile(d, 1).toFixed(0)}`,
          )
          .join(', '),
        'invocations longer than the function timeout': JSON.stringify(timing.overruns),
        'crashes fired': `${injector.stats.crashes} (${crashes.join('; ') || 'none'})`,
        invocations: JSON.stringify(pipeline.runtime.stats.invocations),
        'failed batch items (redelivered)': JSON.stringify(pipeline.runtime.stats.failedItems),
        'log objects / records': `${log.objects} / ${log.records.length}`,
        'rejected log records': rejectedLogged,
        'dead letters read': deadLetters.length,
        'vault objects / retention items': storesDocuments
          ? `${vaultKeys.length} / ${[...retentionDocs.values()].reduce((a, b) => a + b, 0)}`
          : 'not checked',
        'phases (s)': JSON.stringify(phase),
        'events per second (processing)': (messages.length / processSeconds).toFixed(1),
        'wall time (s)': ((Date.now() - started) / 1000).toFixed(1),
      },
    };

    const report = [
      '',
      `FAULT INJECTION: ${messages.length} events (${valid.length} valid, ${invalid.length} invalid), ${duplicates.length} sent twice`,
      `  excluded (placeholders): ${findings.excluded.length ? findings.excluded.join('; ') : 'none'}`,
      `  lost effects:            ${lost.length}`,
      `  duplicated effects:      ${duplicated.length}`,
      `  invalid events in DLQ:   ${invalid.length - invalidMissing.length}/${invalid.length} (wrong reason: ${invalidWrongReason.length}; extra DLQ copies: ${deadLetterCopies})`,
      `  valid events in DLQ:     ${validDeadLettered.length}`,
      `  orphan upload objects:   ${storesDocuments ? orphans.length : 'not checked (uploads not stored yet)'}`,
      `  extra object versions:   log ${findings.extraVersions.log}, vault ${findings.extraVersions.vault} (same key written again after a lost answer)`,
      ...Object.entries(findings.counts).map(([k, v]) => `  ${k}: ${v}`),
      ...[
        ...lost,
        ...duplicated,
        ...invalidMissing,
        ...invalidWrongReason,
        ...validDeadLettered,
        ...orphans,
      ]
        .slice(0, 20)
        .map((line) => `    ! ${line}`),
      '',
    ].join('\n');
    console.log(report);
    const out = path.resolve(__dirname, '..', '..', '.local');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      path.join(out, 'fault-results.json'),
      JSON.stringify({ events: EVENTS, faultRate: FAULT_RATE, ...findings }, null, 2),
    );
    s3.destroy();
    sqs.destroy();
    dynamo.destroy();
  }, 40 * 60_000);

  afterAll(async () => {
    await pipeline?.stop();
    for (const u of unregister.reverse()) u();
  });

  it('loses no effect: every valid event has its effects and its log records', () => {
    // Prepare: the run above. Act: its read-back.
    // Assess
    expect(findings.lost).toEqual([]);
    expect(findings.validDeadLettered).toEqual([]);
  });

  it('duplicates no effect: one log record per operation, one object and one item per document', () => {
    // Assess
    expect(findings.duplicated).toEqual([]);
  });

  it('sends every invalid event to the dead-letter queue with its rejection reason', () => {
    // Assess
    expect(findings.sent.invalid).toBeGreaterThan(0);
    expect(findings.invalidMissing).toEqual([]);
    expect(findings.invalidWrongReason).toEqual([]);
  });

  it('leaves no orphan object in the upload bucket', () => {
    // Assess
    expect(findings.orphans).toEqual([]);
  });

  it('really injected faults, duplicates and crashes', () => {
    // Assess
    expect(Number(findings.counts['faults injected'])).toBeGreaterThan(0);
    expect(findings.sent.duplicates).toBeGreaterThan(0);
    expect(String(findings.counts['crashes fired'])).not.toMatch(/^0/);
  });
});
