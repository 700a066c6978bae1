import { SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig } from './client-config';

/** An SQS client. */
export function createSqsClient(env: NodeJS.ProcessEnv = process.env): SQSClient {
  return new SQSClient(clientConfig(env));
}
