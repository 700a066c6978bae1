import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientConfig, withPlugins } from './client-config';

/** A DynamoDB client. */
export function createDynamoClient(env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  return withPlugins(new DynamoDBClient(clientConfig(env)));
}

/** A DynamoDB document client over `client` (undefined attributes are dropped, not stored). */
export function createDynamoDocumentClient(
  client: DynamoDBClient = createDynamoClient(),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
