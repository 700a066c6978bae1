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
  options: LocalPipelineOptions = {},
): Promise<LocalPipeline> {
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
    ...options,
  });
}
