import { LocalPipeline, LocalPipelineOptions, startLocalPipeline } from '../../local/environment';

/**
 * Starts a pipeline for one test file on the shared endpoint of the global setup, with fresh
 * resources under a random prefix. Failed messages become visible again after one second so that
 * retry paths run in test time.
 */
export async function startTestPipeline(
  options: LocalPipelineOptions = {},
): Promise<LocalPipeline> {
  const endpoint = process.env.PRIVACY_OPS_TEST_ENDPOINT;
  const templatePath = process.env.PRIVACY_OPS_TEST_TEMPLATE;
  if (!endpoint || !templatePath)
    throw new Error('Integration tests need the global setup (jest --selectProjects integration)');
  return startLocalPipeline({
    endpoint,
    templatePath,
    failedMessageVisibilitySeconds: 1,
    ...options,
  });
}
