import type { PhaseResult } from './cost-per-event';
import { AWS_CALL_MS, log } from './settings';
import type { Target } from './targets';

/** Prints the run's tables: cost per event, calls per event, bundles, erasure, intake, targets. */
export function printTables(
  results: Record<string, unknown>,
  perType: Record<string, { cold: PhaseResult; steady: PhaseResult }>,
  naive: PhaseResult & { cold?: PhaseResult },
  targets: readonly Target[],
): void {
  printCostTables(perType, naive);
  printBundleErasureAndIntake(results);
  log('\nTargets');
  printTable([
    ['', 'target', 'measured'],
    ...targets.map((t) => [
      t.pass === null ? 'PENDING' : t.pass ? 'PASS' : 'FAIL',
      t.target,
      t.value,
    ]),
  ]);
}

/** Units and cost per event by type, and calls per event by operation. */
function printCostTables(
  perType: Record<string, { cold: PhaseResult; steady: PhaseResult }>,
  naive: PhaseResult & { cold?: PhaseResult },
): void {
  const rows: string[][] = [
    [
      'event type',
      'SQS',
      'KMS',
      'DDB WRU',
      'DDB RRU',
      'S3 PUT/LIST',
      'S3 GET',
      'Lambda inv',
      'GB-s',
      '$/M measured',
      '$/M modelled',
      'cold $/M',
    ],
  ];
  const row = (name: string, r: PhaseResult, cold?: PhaseResult) => [
    name,
    r.units.sqsRequests.toFixed(2),
    r.units.kmsRequests.toFixed(3),
    r.units.wru.toFixed(2),
    r.units.rru.toFixed(2),
    r.units.s3Tier1.toFixed(2),
    r.units.s3Tier2.toFixed(2),
    r.units.lambdaRequests.toFixed(2),
    r.units.lambdaGbSeconds.toFixed(4),
    r.costPerMillion.total.toFixed(2),
    r.modelledCostPerMillion.total.toFixed(2),
    cold ? cold.costPerMillion.total.toFixed(2) : '',
  ];
  for (const [type, r] of Object.entries(perType))
    rows.push(row(type.replace(/^privacy\.|\.v1$/g, ''), r.steady, r.cold));
  rows.push(row('naive upload (reference)', naive, naive.cold));
  log(
    '\nBillable units per event (steady state, batch size 10) and cost per million events, eu-west-3' +
      " ($/M measured: the handlers' measured run time, the figure quoted; modelled: for comparison)",
  );
  printTable(rows);
  log('\nCalls per event by service and operation (steady state)');
  const ops = new Set<string>();
  for (const r of Object.values(perType)) for (const k of Object.keys(r.steady.calls)) ops.add(k);
  for (const k of Object.keys(naive.calls)) ops.add(k);
  const names = Object.keys(perType).map((t) => t.replace(/^privacy\.|\.v1$/g, ''));
  const opRows = [['call', ...names, 'naive']];
  for (const op of [...ops].sort())
    opRows.push([
      op,
      ...Object.values(perType).map((r) => (r.steady.calls[op] ?? 0).toFixed(3)),
      (naive.calls[op] ?? 0).toFixed(3),
    ]);
  printTable(opRows);
  log(
    '\nHandler time per invocation (its own run, not its wait for an instance), steady state, ms',
  );
  const timeRows = [['event type', 'function', 'p50', 'p95', 'mean', 'endpoint share']];
  for (const [type, r] of Object.entries(perType))
    for (const [fn, t] of Object.entries(r.steady.handlerMs))
      timeRows.push([
        type.replace(/^privacy\.|\.v1$/g, ''),
        fn,
        t.p50.toFixed(1),
        t.p95.toFixed(1),
        t.mean.toFixed(1),
        t.endpointShare.toFixed(2),
      ]);
  printTable(timeRows);
}

/** Bundle sizes and initialisation, erasure against size, intake throughput. */
function printBundleErasureAndIntake(results: Record<string, unknown>): void {
  const bundles = results.bundles as Record<string, { kib: number; initMsMedian: number }>;
  log('\nBundles (esbuild: bundle, minify, sourcemap, node24, cjs) and module initialisation');
  printTable([
    ['function', 'KiB', 'init ms (median)'],
    ...Object.entries(bundles).map(([fn, b]) => [fn, String(b.kib), String(b.initMsMedian)]),
  ]);
  const erasure = results.erasure as { sizes: Array<Record<string, unknown>> };
  log('\nErasure against the number of documents (DocumentVault, local endpoint)');
  printTable([
    [
      'documents',
      'unreadable: calls',
      'KMS',
      'ms',
      'DeleteObjects',
      'ListObjectVersions',
      'delete ms',
    ],
    ...erasure.sizes.map((s) => [
      String(s.documents),
      JSON.stringify(s.unreadableCalls),
      String(s.unreadableKmsCalls),
      String(s.unreadableMs),
      String(s.deleteObjectsCalls),
      String(s.listCalls),
      String(s.deletionMs),
    ]),
  ]);
  const uploads = results.uploadThroughput as Record<string, unknown> | undefined;
  if (uploads) {
    log(
      `\nUpload throughput: ${String(uploads.uploads)} uploads over ${String(uploads.tenants)} tenants x ${String(uploads.subjectsPerTenant)} subjects`,
    );
    log(
      `  pipeline ${String(uploads.pipelineUploadsPerSecond)}/s (${String(uploads.pipelineSeconds)} s, most at once ${JSON.stringify(uploads.concurrentInvocations)}); baseline ${String(uploads.baselineUploadsPerSecond)}/s (${String(uploads.baselineSeconds)} s); ratio ${String(uploads.ratio)}`,
    );
  }
  const intake = results.intakeThroughput as Record<string, number>;
  log('\nIntake throughput, one instance, local endpoint');
  log(
    `  ${intake.eventsPerSecond} events/s; endpoint share ${intake.endpointShare} (${intake.endpointSeconds} s of ${intake.wallSeconds} s awaiting moto); without the endpoint wait ${intake.eventsPerSecondWithoutEndpointWait} events/s; with ${AWS_CALL_MS} ms per call ${intake.eventsPerSecondWithAwsLatency} events/s`,
  );
}

/** Prints rows as a table, the first row as its header. */
function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const [i, r] of rows.entries()) {
    log(
      '  ' +
        r
          .map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j])))
          .join('  '),
    );
    if (i === 0) log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  }
}
