import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DocumentItem } from './retention-items';

/** A page of a scan: document items, and where the next page starts (absent at the end). */
export interface DocumentPage {
  readonly items: DocumentItem[];
  readonly next?: Record<string, unknown>;
}

/**
 * What operators' runs read of the retention table: every document item, page by page (a scan:
 * the functions never scan, they query by key or index), and the progress record of a run
 * (`pk = OPS#<name>`, `sk = PROGRESS`), so that an interrupted run continues where it stopped.
 */
export class StoredDocuments {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  /**
   * One page of document items (consistent read). `limit` counts every item read, so a page may
   * hold fewer documents, or none, and still have a `next`.
   */
  async scan(startKey?: Record<string, unknown>, limit = 100): Promise<DocumentPage> {
    const page = await this.dynamo.send(
      new ScanCommand({
        TableName: this.table,
        FilterExpression: 'begins_with(sk, :doc)',
        ExpressionAttributeValues: { ':doc': 'DOC#' },
        ExclusiveStartKey: startKey,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return { items: (page.Items ?? []) as DocumentItem[], next: page.LastEvaluatedKey };
  }

  /** Every document item, page after page. */
  async *all(pageSize = 100): AsyncGenerator<DocumentItem> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.scan(start, pageSize);
      yield* page.items;
      start = page.next;
    } while (start);
  }

  /** The progress record of run `name`, or undefined when none is under way. */
  async getProgress<T extends object>(name: string): Promise<T | undefined> {
    const got = await this.dynamo.send(
      new GetCommand({ TableName: this.table, Key: this.keyOf(name), ConsistentRead: true }),
    );
    if (!got.Item) return undefined;
    const { pk: _pk, sk: _sk, kind: _kind, ...progress } = got.Item;
    return progress as T;
  }

  /** Saves the progress record of run `name`, replacing the previous one. */
  async putProgress(name: string, progress: object): Promise<void> {
    await this.dynamo.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...progress, ...this.keyOf(name), kind: 'progress' },
      }),
    );
  }

  /** Removes the progress record of a finished run. */
  async deleteProgress(name: string): Promise<void> {
    await this.dynamo.send(new DeleteCommand({ TableName: this.table, Key: this.keyOf(name) }));
  }

  private keyOf(name: string) {
    return { pk: `OPS#${name}`, sk: 'PROGRESS' };
  }
}
