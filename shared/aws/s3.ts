import { S3Client } from '@aws-sdk/client-s3';
import { clientConfig, withPlugins } from './client-config';

/** An S3 client; path-style when an endpoint override is set (`bucket.127.0.0.1` does not resolve). */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const config = clientConfig(env);
  return withPlugins(new S3Client({ ...config, forcePathStyle: config.endpoint !== undefined }));
}
