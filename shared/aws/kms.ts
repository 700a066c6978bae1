import { KMSClient } from '@aws-sdk/client-kms';
import { clientConfig, withPlugins } from './client-config';

/** A KMS client. */
export function createKmsClient(env: NodeJS.ProcessEnv = process.env): KMSClient {
  return withPlugins(new KMSClient(clientConfig(env)));
}
