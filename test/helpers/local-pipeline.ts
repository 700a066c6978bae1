import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LocalPipeline, LocalPipelineOptions, startLocalPipeline } from '../../local/environment';

/**
 * Starts a pipeline for one test file on the shared endpoint of the global setup, with fresh
 * resources under a random prefix. Failed messages become visible again after one second so that
 * retry paths run in test time; schedules do not run (a test invokes a scheduled function itself,
 * so no checkpoint lands mid-test). A client the test file builds from its own environment (a store
 * or a service with default clients) talks to the same endpoint: the test process's AWS endpoint
 * and region default to the local ones, and its Powertools objects run as the functions' do
 * (development mode, metrics off, WARN). The functions' variables are not set here: a test reads
 * them from `runtime.findFunction(name).environment`.
 */
export async function startTestPipeline(
  options: LocalPipelineOptions & TestPipelineOptions = {},
): Promise<LocalPipeline> {
  const { producers, ...local } = options;
  if (producers !== undefined) return withProducers(producers, () => startTestPipeline(local));
  const endpoint = process.env.PRIVACY_OPS_TEST_ENDPOINT;
  const templatePath = process.env.PRIVACY_OPS_TEST_TEMPLATE;
  if (!endpoint || !templatePath)
    throw new Error('Integration tests need the global setup (jest --selectProjects integration)');
  process.env.AWS_ENDPOINT_URL ??= endpoint;
  process.env.AWS_REGION ??= 'eu-west-3';
  process.env.POWERTOOLS_DEV ??= 'true';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  return startLocalPipeline({
    endpoint,
    templatePath,
    failedMessageVisibilitySeconds: 1,
    schedules: false,
    ...local,
  });
}

/** What a test may set besides the runtime's options. */
export interface TestPipelineOptions {
  /**
   * The producer registry the intake runs with (the content of a `config/producers.json`), given
   * to the local functions as `PRODUCERS_FILE`.
   * @default the local registry: moto's sender for every tenant, source and type
   */
  readonly producers?: unknown;
}

/**
 * Runs `start` with `PRODUCERS_FILE` naming a file that holds `registry`: the runtime hands the
 * variable to the functions it starts. The file stays (in the system's temporary folder) for
 * whenever the intake reads it.
 */
async function withProducers<T>(registry: unknown, start: () => Promise<T>): Promise<T> {
  const work = mkdtempSync(path.join(tmpdir(), 'producers-'));
  const file = path.join(work, 'producers.json');
  writeFileSync(file, JSON.stringify(registry));
  const previous = process.env.PRODUCERS_FILE;
  process.env.PRODUCERS_FILE = file;
  try {
    return await start();
  } finally {
    if (previous === undefined) delete process.env.PRODUCERS_FILE;
    else process.env.PRODUCERS_FILE = previous;
  }
}
