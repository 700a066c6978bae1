import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { passesFilterCriteria } from './event-filter';
import { count, sleep, type BatchResponse, type PollerContext } from './poller-context';
import type { LocalEventSourceMapping, TemplateFunction } from './template-model';

/** A stream record as Lambda delivers it in a DynamoDB stream event. */
export function toLambdaStreamRecord(
  record: StreamRecord,
  arn: string,
  region: string,
): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    eventSourceARN: arn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
    dynamodb: {
      ApproximateCreationDateTime: d.ApproximateCreationDateTime
        ? Math.floor(new Date(d.ApproximateCreationDateTime).getTime() / 1000)
        : undefined,
      Keys: d.Keys as never,
      NewImage: d.NewImage as never,
      OldImage: d.OldImage as never,
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType as never,
    },
  };
}

/**
 * The poller of a DynamoDB stream event source mapping, as Lambda runs it: one iterator per shard
 * from the starting position, filter criteria applied before invoking, and a failed batch retried
 * from its first failed sequence number (partial batch response) up to the mapping's retry limit.
 */
export class StreamPoller {
  /** True while the last pass over the shards found records: the stream is not caught up. */
  busy = false;

  constructor(
    private readonly context: PollerContext,
    private readonly streams: DynamoDBStreamsClient,
    private readonly mapping: LocalEventSourceMapping,
    private readonly fn: TemplateFunction,
  ) {}

  /** Polls until the runtime stops. */
  async run(): Promise<void> {
    const iterators = new Map<string, string | undefined>();
    while (this.context.isRunning()) {
      try {
        await this.openShards(iterators);
        let any = false;
        for (const [shardId, iterator] of iterators) {
          if (!iterator) continue;
          const page = await this.streams.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: this.mapping.batchSize }),
          );
          iterators.set(shardId, page.NextShardIterator);
          const records = (page.Records ?? [])
            .map((r) => toLambdaStreamRecord(r, this.mapping.sourceArn, this.context.region))
            .filter((r) =>
              passesFilterCriteria(
                this.mapping.filterCriteria,
                r as unknown as Record<string, unknown>,
              ),
            );
          if (records.length === 0) continue;
          any = true;
          await this.deliver(records);
        }
        this.busy = any;
        if (!any) await sleep(250);
      } catch (error) {
        if (!this.context.isRunning()) break;
        this.context.log(`  stream poller ${this.fn.entry}: ${(error as Error).message}`);
        await sleep(500);
      }
    }
  }

  /** Opens an iterator on every shard not seen yet. */
  private async openShards(iterators: Map<string, string | undefined>): Promise<void> {
    const m = this.mapping;
    const description = await this.streams.send(new DescribeStreamCommand({ StreamArn: m.source }));
    for (const shard of description.StreamDescription?.Shards ?? []) {
      if (iterators.has(shard.ShardId!)) continue;
      const it = await this.streams.send(
        new GetShardIteratorCommand({
          StreamArn: m.source,
          ShardId: shard.ShardId!,
          ShardIteratorType: m.startingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
        }),
      );
      iterators.set(shard.ShardId!, it.ShardIterator);
    }
  }

  private async deliver(records: DynamoDBRecord[]): Promise<void> {
    const { fn, mapping: m, context } = this;
    const maxAttempts =
      m.maximumRetryAttempts === undefined || m.maximumRetryAttempts < 0
        ? 10
        : m.maximumRetryAttempts + 1;
    let remaining = records;
    for (let attempt = 1; attempt <= maxAttempts && remaining.length > 0; attempt += 1) {
      count(context.stats.deliveredRecords, fn.key, remaining.length);
      try {
        const response = (await context.invoke(fn, { Records: remaining })) as BatchResponse;
        const first = m.reportBatchItemFailures
          ? response?.batchItemFailures?.[0]?.itemIdentifier
          : undefined;
        if (!first) return;
        // Streams resume from the first failed sequence number, as Lambda does.
        const index = remaining.findIndex((r) => r.dynamodb?.SequenceNumber === first);
        remaining = index < 0 ? remaining : remaining.slice(index);
      } catch (error) {
        context.log(
          `  ${fn.entry} failed a stream batch (attempt ${attempt}): ${(error as Error).message}`,
        );
      }
      count(context.stats.failedItems, fn.key, remaining.length);
      await sleep(100 * attempt);
    }
    if (remaining.length > 0)
      context.log(
        `  ${fn.entry}: dropped ${remaining.length} stream records after ${maxAttempts} attempts`,
      );
  }
}
