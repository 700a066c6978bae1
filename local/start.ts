import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runDemo } from './demo';
import { startLocalPipeline } from './environment';

/**
 * `npm start`: starts the local AWS endpoint, provisions the stack's resources from the
 * synthesized template, runs the handlers, writes `.local/outputs.json` and serves until
 * interrupted. `npm start -- --demo` runs a small scenario and exits with a summary.
 */
async function main(argv: string[]): Promise<number> {
  const demo = argv.includes('--demo');
  const regionIndex = argv.indexOf('--region');
  const region = regionIndex >= 0 ? argv[regionIndex + 1] : 'eu-west-3';
  const say = (line: string) => console.log(line);
  say(`privacy-ops local pipeline (${region})`);
  say('1/4 starting the local AWS endpoint (moto) and synthesizing the stack');
  // As deployed: as many instances of each function as its template allows.
  const pipeline = await startLocalPipeline({
    region,
    log: say,
    startRuntime: false,
    instancesPerFunction: 'template',
  });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping the runtime and the local endpoint');
    await pipeline.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(130));
  process.on('SIGTERM', () => void stop(143));

  const { environment } = pipeline;
  say('2/4 not reproduced locally:');
  const byReason = new Map<string, string[]>();
  for (const s of environment.skipped)
    byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.type]);
  for (const [reason, types] of byReason) say(`  - ${[...new Set(types)].join(', ')}: ${reason}`);
  for (const note of environment.notes) say(`  - ${note}`);

  const outputsFile = path.resolve(__dirname, '..', '.local', 'outputs.json');
  mkdirSync(path.dirname(outputsFile), { recursive: true });
  writeFileSync(
    outputsFile,
    JSON.stringify({ endpoint: pipeline.endpoint, region, ...environment.outputs }, null, 2) + '\n',
  );
  say(`3/4 wrote ${path.relative(process.cwd(), outputsFile)}`);

  say('4/4 starting the handlers:');
  pipeline.runtime.start();
  pipeline.replicator.start();

  if (demo) {
    say('\ndemo scenario');
    const summary = await runDemo(pipeline, (l) => say(`  ${l}`));
    say('\nsummary');
    say(`  events sent:            ${summary.sent}`);
    say(`  processing-log objects: ${summary.logObjects}`);
    say(`  processing-log records: ${summary.logRecords.length}`);
    say('  records per operation and outcome:');
    for (const [key, count] of Object.entries(summary.outcomes).sort())
      say(`    ${key.padEnd(28)} ${count}`);
    say(
      `  checks:                 ${summary.checks.filter((c) => c.ok).length}/${summary.checks.length} passed`,
    );
    for (const c of summary.checks.filter((c) => !c.ok)) say(`    FAILED: ${c.name}`);
    say(`  invocations:            ${JSON.stringify(pipeline.runtime.stats.invocations)}`);
    say(summary.ok ? '\ndemo OK' : '\ndemo FAILED');
    await stop(summary.ok ? 0 : 1);
    return summary.ok ? 0 : 1;
  }
  say(`\nserving on ${pipeline.endpoint}; press Ctrl-C to stop`);
  await new Promise(() => undefined);
  return 0;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`privacy-ops: ${(error as Error).message}`);
  process.exit(1);
});
