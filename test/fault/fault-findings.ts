import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  drainQueue,
  expectedOperations,
  readLogRecords,
  type DeadLetter,
  type ReadLogRecord,
  type WorkloadMessage,
} from '../../bench/workload';
import { listObjectVersions } from '../../shared/aws/object-versions';
import { totalsByOperation } from '../support/call-counter';
import { quantile } from '../support/quantiles';
import type { FaultRun } from './fault-run';

/** Every effect of a run, read back from the local endpoint. */
export interface Effects {
  readonly log: { records: ReadLogRecord[]; objects: number; versions: number };
  readonly deadLetters: DeadLetter[];
  /** Current vault objects, and every version of them. */
  readonly vaultKeys: string[];
  readonly vaultVersions: number;
  /** Retention items by document id. */
  readonly retentionItems: Map<string, number>;
  /** Keys still in the upload bucket (every version). */
  readonly uploadsLeft: string[];
}

/** What the checks found: every list is empty when nothing went wrong. */
export interface Findings {
  readonly sent: { distinct: number; valid: number; invalid: number; duplicates: number };
  readonly lost: string[];
  readonly duplicated: string[];
  readonly invalidMissing: string[];
  readonly invalidWrongReason: string[];
  readonly validDeadLettered: string[];
  readonly deadLetterCopies: number;
  readonly orphans: string[];
  readonly extraVersions: { log: number; vault: number };
  /** Figures of the run, for the report. */
  readonly counts: Record<string, number | string>;
}

/** Reads back every effect: the processing log, the dead letters, the vault, the retention table, the upload bucket. */
export async function collectEffects(run: FaultRun): Promise<Effects> {
  const started = Date.now();
  const { s3, sqs, dynamo, outputs } = run;
  const log = await readLogRecords(s3, outputs.LogBucketName);
  const deadLetters = await drainQueue(sqs, outputs.DeadLetterQueueUrl);
  const vault = (await listObjectVersions(s3, { bucket: outputs.VaultBucketName })).filter(
    (v) => !v.deleteMarker,
  );
  const retentionItems = new Map<string, number>();
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({ TableName: outputs.RetentionTableName, ExclusiveStartKey: start }),
    );
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw);
      if (item.kind === 'document' && typeof item.documentId === 'string')
        retentionItems.set(item.documentId, (retentionItems.get(item.documentId) ?? 0) + 1);
    }
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  const uploadsLeft = (await listObjectVersions(s3, { bucket: outputs.UploadBucketName })).map(
    (v) => v.key,
  );
  run.phases['read back'] = (Date.now() - started) / 1000;
  return {
    log,
    deadLetters,
    vaultKeys: vault.filter((v) => v.latest).map((v) => v.key),
    vaultVersions: vault.length,
    retentionItems,
    uploadsLeft,
  };
}

const countBy = <T>(items: readonly T[], key: (item: T) => string): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
};

/** Lost and doubled effects of the valid events: log records by operation, vault objects, retention items. */
function checkValidEvents(run: FaultRun, effects: Effects) {
  const bySource = effects.log.records.filter((r) => r.eventSource === run.settings.source);
  const records = countBy(bySource, (r) => `${r.eventId} ${r.operation}`);
  const vault = countBy(effects.vaultKeys, (key) => key.split('/').pop()!);
  const lost: string[] = [];
  const duplicated: string[] = [];
  for (const m of run.messages.filter((m) => !m.invalid)) {
    for (const op of expectedOperations(m.type!)) {
      const n = records.get(`${m.eventId} ${op}`) ?? 0;
      if (n === 0) lost.push(`${m.eventId} (${m.type}): no '${op}' log record`);
      if (n > 1) duplicated.push(`${m.eventId} (${m.type}): ${n} '${op}' log records`);
    }
    if (!m.upload) continue;
    const stored = vault.get(m.documentId!) ?? 0;
    const items = effects.retentionItems.get(m.documentId!) ?? 0;
    if (stored === 0) lost.push(`${m.eventId}: no vault object`);
    if (items === 0) lost.push(`${m.eventId}: no retention item`);
    if (stored > 1) duplicated.push(`${m.eventId}: ${stored} vault objects`);
    if (items > 1) duplicated.push(`${m.eventId}: ${items} retention items`);
  }
  for (const [recordId, n] of countBy(effects.log.records, (r) => r.recordId))
    if (n > 1) duplicated.push(`log record ${recordId} written ${n} times`);
  return { lost, duplicated };
}

/** Invalid events: each in the dead-letter queue with its reason; no valid event there. */
function checkDeadLetters(messages: readonly WorkloadMessage[], deadLetters: DeadLetter[]) {
  const letters = new Map<string, Array<string | undefined>>();
  for (const d of deadLetters) letters.set(d.body, [...(letters.get(d.body) ?? []), d.reason]);
  const invalidMissing: string[] = [];
  const invalidWrongReason: string[] = [];
  for (const m of messages.filter((m) => m.invalid)) {
    const reasons = letters.get(m.body);
    if (!reasons) invalidMissing.push(`${m.eventId} (${m.invalid})`);
    else if (!reasons.every((r) => r?.startsWith(m.expectedReason!)))
      invalidWrongReason.push(`${m.eventId} (${m.invalid}): ${reasons.join(', ')}`);
  }
  const validBodies = new Set(messages.filter((m) => !m.invalid).map((m) => m.body));
  const validDeadLettered = deadLetters
    .filter((d) => validBodies.has(d.body))
    .map((d) => `${JSON.parse(d.body).id}: ${d.reason ?? 'redrive (receive count exhausted)'}`);
  return {
    invalidMissing,
    invalidWrongReason,
    validDeadLettered,
    deadLetterCopies: deadLetters.length - letters.size,
  };
}

const seconds = (ms: number) => Math.round(ms / 1000);

/** The run's figures: calls, faults, invocation times, objects. */
function runCounts(run: FaultRun, effects: Effects): Record<string, number | string> {
  const { injector, timing, pipeline } = run;
  const totals = totalsByOperation(
    run.counter.snapshot(),
    (s) => !s.startsWith('poller') && s !== 'harness',
  );
  const attempts = Object.values(totals).reduce((n, c) => n + c.attempts, 0);
  const failedCalls = Object.values(totals).reduce((n, c) => n + c.failedCalls, 0);
  const ms = (d: number[]) => [0.5, 0.95, 1].map((p) => quantile(d, p).toFixed(0)).join('/');
  return {
    'handler SDK attempts': attempts,
    'faults injected': injector.stats.injected,
    'faults: throttling / 5xx / timeout': `${injector.stats.byKind.throttling} / ${injector.stats.byKind['server-error']} / ${injector.stats.byKind.timeout}`,
    'faults: before / after the real call': `${injector.stats.byTiming.before} / ${injector.stats.byTiming.after}`,
    'measured fault rate (injected / attempts)': (
      injector.stats.injected / Math.max(1, attempts)
    ).toFixed(3),
    'calls ending in an error after SDK retries (incl. expected 404s, conditional failures)':
      failedCalls,
    'handler run ms p50 / p95 / max': Object.entries(timing.durationsMs)
      .map(([fn, d]) => `${fn} ${ms(d)}`)
      .join(', '),
    'runs longer than the function timeout': JSON.stringify(timing.overruns),
    'crashes fired': `${injector.stats.crashes} (${run.crashes.join('; ') || 'none'})`,
    invocations: JSON.stringify(pipeline.runtime.stats.invocations),
    'failed batch items (redelivered)': JSON.stringify(pipeline.runtime.stats.failedItems),
    'log objects / records': `${effects.log.objects} / ${effects.log.records.length}`,
    'rejected log records': effects.log.records.filter((r) => r.operation === 'rejected').length,
    'dead letters read': effects.deadLetters.length,
    'vault objects / retention items': `${effects.vaultKeys.length} / ${[...effects.retentionItems.values()].reduce((a, b) => a + b, 0)}`,
    'phases (s)': JSON.stringify(run.phases),
    'send + process: s with no handler running / handler s by function / handler s awaiting the endpoint': `${seconds(run.activity.idleMs)} / ${JSON.stringify(Object.fromEntries(Object.entries(run.activity.handlerMs).map(([fn, t]) => [fn, seconds(t)])))} / ${seconds(Object.values(totals).reduce((n, c) => n + c.endpointMs, 0))}`,
    'events per second (processing)': (run.messages.length / run.phases.process).toFixed(1),
    'wall time (s)': ((Date.now() - run.startedAt) / 1000).toFixed(1),
  };
}

/** Compares what the run sent with what it left. */
export function judge(run: FaultRun, effects: Effects): Findings {
  const valid = run.messages.filter((m) => !m.invalid).length;
  return {
    sent: {
      distinct: run.messages.length,
      valid,
      invalid: run.messages.length - valid,
      duplicates: run.duplicates.length,
    },
    ...checkValidEvents(run, effects),
    ...checkDeadLetters(run.messages, effects.deadLetters),
    orphans: effects.uploadsLeft,
    extraVersions: {
      log: effects.log.versions - effects.log.objects,
      vault: effects.vaultVersions - effects.vaultKeys.length,
    },
    counts: runCounts(run, effects),
  };
}

/** Prints the findings and writes them to `.local/fault-results.json`. */
export function report(run: FaultRun, f: Findings): void {
  const problems = [
    ...f.lost,
    ...f.duplicated,
    ...f.invalidMissing,
    ...f.invalidWrongReason,
    ...f.validDeadLettered,
    ...f.orphans,
  ];
  const lines = [
    '',
    `FAULT INJECTION: ${f.sent.distinct} events (${f.sent.valid} valid, ${f.sent.invalid} invalid), ${f.sent.duplicates} sent twice`,
    `  lost effects:            ${f.lost.length}`,
    `  duplicated effects:      ${f.duplicated.length}`,
    `  invalid events in DLQ:   ${f.sent.invalid - f.invalidMissing.length}/${f.sent.invalid} (wrong reason: ${f.invalidWrongReason.length}; extra DLQ copies: ${f.deadLetterCopies})`,
    `  valid events in DLQ:     ${f.validDeadLettered.length}`,
    `  orphan upload objects:   ${f.orphans.length}`,
    `  extra object versions:   log ${f.extraVersions.log}, vault ${f.extraVersions.vault} (same key written again after a lost answer)`,
    ...Object.entries(f.counts).map(([k, v]) => `  ${k}: ${v}`),
    ...problems.slice(0, 20).map((line) => `    ! ${line}`),
    '',
  ];
  console.log(lines.join('\n'));
  const out = path.resolve(__dirname, '..', '..', '.local');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, 'fault-results.json'),
    JSON.stringify(
      { events: run.settings.events, faultRate: run.settings.faultRate, ...f },
      null,
      2,
    ),
  );
}
