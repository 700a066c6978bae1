import { KMSClient } from '@aws-sdk/client-kms';
import { clientConfig } from './client-config';

/** A KMS client. */
export function createKmsClient(env: NodeJS.ProcessEnv = process.env): KMSClient {
  return new KMSClient(clientConfig(env));
}
