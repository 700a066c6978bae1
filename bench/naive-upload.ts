import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** Where the naive implementation reads and writes. */
export interface NaiveUploadOptions {
  readonly s3: S3Client;
  readonly kms: KMSClient;
  readonly dynamo: DynamoDBClient;
  readonly uploadBucket: string;
  readonly vaultBucket: string;
  readonly logBucket: string;
  readonly table: string;
  readonly keyId: string;
}

/**
 * The naive reference implementation of a document upload, for the benchmark only: what a first
 * version would do for each event, with no batching and no caching. Per event: one KMS
 * GenerateDataKey (a data key per document), GetObject of the upload, PutObject of the encrypted
 * document, one retention item (PutItem), one processing-log object (PutObject), DeleteObject of
 * the upload. No idempotency, no pseudonyms, no checks: it is a cost floor for that design, not a
 * correct pipeline.
 */
export function naiveUploadHandler(
  options: NaiveUploadOptions,
): (event: SQSEvent) => Promise<void> {
  const { s3, kms, dynamo } = options;
  return async (event: SQSEvent) => {
    for (const record of event.Records) {
      const e = JSON.parse(record.body) as {
        id: string;
        source: string;
        tenantid: string;
        data: { subjectId: string; documentId: string; category: string; upload: { key: string } };
      };
      const dataKey = await kms.send(
        new GenerateDataKeyCommand({
          KeyId: options.keyId,
          KeySpec: 'AES_256',
          EncryptionContext: { tenant: e.tenantid },
        }),
      );
      const object = await s3.send(
        new GetObjectCommand({ Bucket: options.uploadBucket, Key: e.data.upload.key }),
      );
      const content = Buffer.from(await object.Body!.transformToByteArray());
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', Buffer.from(dataKey.Plaintext!), iv);
      const body = Buffer.concat([iv, cipher.update(content), cipher.final(), cipher.getAuthTag()]);
      const vaultKey = `${e.tenantid}/${e.data.documentId}`;
      await s3.send(
        new PutObjectCommand({ Bucket: options.vaultBucket, Key: vaultKey, Body: body }),
      );
      await dynamo.send(
        new PutItemCommand({
          TableName: options.table,
          Item: {
            pk: { S: `NAIVE#${e.tenantid}#${e.data.subjectId}` },
            sk: { S: `DOC#${e.data.documentId}` },
            vaultKey: { S: vaultKey },
            wrappedKey: { B: dataKey.CiphertextBlob! },
            category: { S: e.data.category },
            sha256: { S: createHash('sha256').update(content).digest('hex') },
          },
        }),
      );
      const line = JSON.stringify({
        eventId: e.id,
        eventSource: e.source,
        operation: 'stored',
        time: new Date().toISOString(),
      });
      await s3.send(
        new PutObjectCommand({
          Bucket: options.logBucket,
          Key: `naive/${e.id}.jsonl.gz`,
          Body: gzipSync(line + '\n'),
        }),
      );
      await s3.send(
        new DeleteObjectCommand({ Bucket: options.uploadBucket, Key: e.data.upload.key }),
      );
    }
  };
}
