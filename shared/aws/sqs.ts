import { SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig, withPlugins } from './client-config';

/** An SQS client. */
export function createSqsClient(env: NodeJS.ProcessEnv = process.env): SQSClient {
  return withPlugins(new SQSClient(clientConfig(env)));
}
