import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { createDynamoClient, createDynamoDocumentClient } from '../aws/dynamodb';
import { createKmsClient } from '../aws/kms';
import { createS3Client } from '../aws/s3';
import { requireEnv } from '../config';
import { Pseudonymizer } from '../pseudonym';
import { defaultRetentionPolicy } from '../retention/policy';
import { RetentionStore } from '../retention/retention-store';
import { DocumentVault } from '../vault/document-vault';
import type { OperationContext } from './context';

/** How long an unwrapped subject key is reused: effectively once (see below). */
export const SUBJECT_KEY_CACHE_MS = 1;

/** An operation context plus the clients it was built from, for a function module. */
export interface FunctionServices {
  readonly context: OperationContext;
  readonly s3: S3Client;
  readonly dynamo: DynamoDBClient;
}

/**
 * Builds the clients and services of a function once, at module scope, from the environment
 * infra sets (fails fast naming a missing variable). The clock is the real one.
 */
export function servicesFromEnvironment(env: NodeJS.ProcessEnv = process.env): FunctionServices {
  const s3 = createS3Client(env);
  const dynamo = createDynamoClient(env);
  const documents = createDynamoDocumentClient(dynamo);
  const kms = createKmsClient(env);
  return {
    s3,
    dynamo,
    context: {
      policy: defaultRetentionPolicy(env),
      store: new RetentionStore({
        table: requireEnv('RETENTION_TABLE_NAME', env),
        dynamo: documents,
      }),
      // Subject keys are not cached across documents (1 ms): another function may have shredded
      // one, and a document must never be written or read under a destroyed key. Tenant wrapping
      // keys stay cached, so this costs one key-store read per document, not a KMS call.
      vault: new DocumentVault({
        s3,
        dynamo: documents,
        kms,
        bucket: requireEnv('VAULT_BUCKET_NAME', env),
        keyStoreTable: requireEnv('KEY_STORE_TABLE_NAME', env),
        wrappingKeyId: requireEnv('DOCUMENTS_KEY_ID', env),
        subjectKeyCacheTtlMs: SUBJECT_KEY_CACHE_MS,
      }),
      pseudonyms: new Pseudonymizer(kms, requireEnv('PSEUDONYM_KEY_ID', env)),
      now: () => new Date(),
    },
  };
}
