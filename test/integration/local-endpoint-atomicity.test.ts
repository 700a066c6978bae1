import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { forEachConcurrently } from '../../bench/workload';
import { localClientOptions } from '../../local/client-options';
import { createDynamoDocumentClient } from '../../shared/aws/dynamodb';

jest.setTimeout(300_000);

/** Items already in the table: the bigger the table, the longer moto's copy of it takes. */
const SEEDED = 1000;
/** Transactions whose condition fails, and writes of new items made beside them. */
const FAILING_TRANSACTIONS = 10;
const WRITES = 200;

/**
 * DynamoDB applies each request atomically: a transaction whose condition fails changes nothing,
 * and undoes nothing another request wrote. The local endpoint must do the same, or a test sees
 * an effect vanish that AWS would keep (a retention item created beside a refused legal-hold
 * transaction did, in the fault suite).
 */
describe('the local endpoint applies each DynamoDB request atomically', () => {
  const client = new DynamoDBClient(localClientOptions(process.env.PRIVACY_OPS_TEST_ENDPOINT!));
  const documents = createDynamoDocumentClient(client);
  const table = `atomicity-${Date.now()}`;

  afterAll(() => client.destroy());

  it('keeps every write made while a transaction is refused', async () => {
    // Prepare: a table of some size
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    const seeded = Array.from({ length: SEEDED / 25 }, (_, b) =>
      Array.from({ length: 25 }, (_, i) => ({
        PutRequest: { Item: { pk: `seed-${b}`, sk: `item-${i}`, payload: 'x'.repeat(200) } },
      })),
    );
    await forEachConcurrently(seeded, 8, async (batch) => {
      await documents.send(new BatchWriteCommand({ RequestItems: { [table]: batch } }));
    });
    // Act: transactions refused by their condition, among writes of new items, 8 requests at once
    const keys = Array.from({ length: WRITES }, (_, i) => `new-${i}`);
    const outcomes: string[] = [];
    const refuse = (i: number) =>
      client
        .send(
          new TransactWriteItemsCommand({
            TransactItems: [
              ...Array.from({ length: 60 }, (_, j) => ({
                Put: { TableName: table, Item: { pk: { S: `tx-${i}` }, sk: { S: `put-${j}` } } },
              })),
              {
                ConditionCheck: {
                  TableName: table,
                  Key: { pk: { S: 'absent' }, sk: { S: `absent-${i}` } },
                  ConditionExpression: 'attribute_exists(pk)',
                },
              },
            ],
          }),
        )
        .then(
          () => outcomes.push('applied'),
          (error: Error) => outcomes.push(error.name),
        );
    const requests = keys.map((key, i) => async () => {
      if (i % (WRITES / FAILING_TRANSACTIONS) === 0) await refuse(i);
      await client.send(
        new PutItemCommand({ TableName: table, Item: { pk: { S: key }, sk: { S: 'item' } } }),
      );
    });
    await forEachConcurrently(requests, 8, (request) => request());
    // Assess: every transaction refused (as a refusal, not a broken answer), every write kept
    const missing: string[] = [];
    for (const key of keys) {
      const got = await client.send(
        new GetItemCommand({
          TableName: table,
          Key: { pk: { S: key }, sk: { S: 'item' } },
          ConsistentRead: true,
        }),
      );
      if (!got.Item) missing.push(key);
    }
    expect({ missing, outcomes: [...new Set(outcomes)] }).toEqual({
      missing: [],
      outcomes: ['TransactionCanceledException'],
    });
  });
});
