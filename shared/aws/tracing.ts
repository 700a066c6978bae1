import { Tracer } from '@aws-lambda-powertools/tracer';
import { setAWSWhitelist } from 'aws-xray-sdk-core';

const BUCKET = { request_descriptors: { Bucket: { rename_to: 'bucket_name' } } };
const TABLE = { request_parameters: ['TableName'], response_parameters: ['ConsumedCapacity'] };
const INDEX = {
  request_parameters: ['TableName', 'IndexName', 'Select'],
  response_parameters: ['ConsumedCapacity', 'Count'],
};
const QUEUE = { request_parameters: ['QueueUrl'] };

/**
 * What X-Ray may record of each AWS call besides its service, operation, region, request id and
 * retries: the bucket, table, index or queue it names, and DynamoDB's consumed capacity. Never an
 * object key (a producer chooses upload keys freely, and they may name a person), a version id,
 * an item's key or a message. X-Ray's default list records S3 keys; this one replaces it, so an
 * operation not listed records nothing more.
 */
export const TRACED_PARAMETERS = {
  services: {
    s3: {
      operations: Object.fromEntries(
        [
          'getObject',
          'headObject',
          'putObject',
          'deleteObject',
          'deleteObjects',
          'listObjectsV2',
          'listObjectVersions',
          'getObjectLockConfiguration',
          'createMultipartUpload',
          'uploadPart',
          'completeMultipartUpload',
          'abortMultipartUpload',
        ].map((operation) => [operation, BUCKET]),
      ),
    },
    dynamodb: {
      operations: {
        getItem: TABLE,
        putItem: TABLE,
        updateItem: TABLE,
        deleteItem: TABLE,
        transactWriteItems: { response_parameters: ['ConsumedCapacity'] },
        batchWriteItem: { response_parameters: ['ConsumedCapacity'] },
        query: INDEX,
        scan: INDEX,
      },
    },
    sqs: {
      operations: { sendMessage: QUEUE, sendMessageBatch: QUEUE },
    },
  },
} as const;

/**
 * The Powertools tracer of a function (settings from the process environment: on in Lambda with
 * active tracing, off elsewhere), recording only {@link TRACED_PARAMETERS} of its AWS calls. It
 * does not capture Node.js HTTP: that would add a subsegment per request with its URL, and an S3
 * URL holds the object key (the AWS calls are traced by their clients instead).
 */
export function functionTracer(): Tracer {
  setAWSWhitelist(TRACED_PARAMETERS);
  return new Tracer({ captureHTTPsRequests: false });
}
