import { sqsEvent as sqsEventOf } from '../support/sqs-records';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import * as z from 'zod/mini';
import {
  AccessRequestedV1,
  AccountClosedV1,
  AccountReopenedV1,
  DocumentUploadedV1,
  ErasureRequestedV1,
} from '../../events';
import { SubjectRequestContinuedV1 } from '../../events/internal';
import type { LocalPipeline } from '../../local/environment';
import { BatchInvocation } from '../../shared/batch/batch-invocation';
import { continuingOn } from '../../shared/batch/continuation-queue';
import { KeyedOperationBatch } from '../../shared/batch/keyed-operation-batch';
import { OperationBatch } from '../../shared/batch/operation-batch';
import { inSubjectOrder, IN_SUBJECT_ORDER } from '../../shared/batch/subject-order';
import type { FunctionName } from '../../shared/functions/declarations';
import { functionServices } from '../../shared/functions/services';
import { AccessRequestOperation } from '../../shared/operations/access-request';
import { AccountClosureOperation } from '../../shared/operations/account-closure';
import { DocumentUploadOperation } from '../../shared/operations/document-upload';
import { ErasureRequestOperation } from '../../shared/operations/erasure-request';
import { DocumentExpiry } from '../../shared/operations/retention-expiry';
import { RetentionSweeper } from '../../shared/operations/retention-sweep';
import { SubjectCopies } from '../../shared/operations/subject-copies';
import { logObjectsOf } from '../../shared/processing-log/log-object-check';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import type { DocumentItem } from '../../shared/retention/retention-items';
import { inCallScope, type CallScope } from '../support/call-scopes';
import type { FaultInjector } from '../support/fault-injector';

/*
 * The crash-point runs: each function built in the test process as its file builds it (same
 * classes, same wiring), from its own template environment, with a clock the test moves; each
 * attempt is a fresh instance (a crashed Lambda's module state is gone) whose SDK calls form one
 * call scope, so the fault injector can kill it at its Nth call (before the call: the calls
 * before it took effect, nothing after it runs).
 */

/** One attempt's invocation: its handler run on `event` inside its own call scope. */
export type Attempt = (event: unknown, context: Context) => Promise<unknown>;

/** The functions the crash points cover. */
export type CrashFunction =
  | 'access-request'
  | 'account-closure'
  | 'document-upload'
  | 'erasure-request'
  | 'retention-expiry'
  | 'sweep';

/**
 * A Lambda context whose remaining time is short: the in-progress record of a crashed invocation
 * expires at once, as it does in Lambda once the crashed invocation's time has run out.
 */
export function shortContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'crash-points',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-3:000000000000:function:crash-points',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/crash-points',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 1,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Builds a fresh instance of `fn` (module state and clients of its own) on the pipeline, from its
 * template environment with `overrides` (configuration a test sets: a page budget, a queue).
 */
export function freshInstance(
  pipeline: LocalPipeline,
  fn: CrashFunction,
  now: () => Date,
  overrides: Record<string, string> = {},
): Attempt {
  const env = (name: FunctionName) => ({
    ...pipeline.runtime.findFunction(name).environment,
    ...overrides,
  });
  if (fn === 'erasure-request') {
    const services = { ...functionServices('erasure-request', env(fn)), now };
    const copies = new SubjectCopies({
      s3: services.exports.s3,
      exportBucket: services.exports.bucket,
      uploadBucket: services.uploads.bucket,
    });
    const operation = new ErasureRequestOperation(services, copies, services.continuations);
    const batch = new OperationBatch(
      'erasure-request',
      services,
      undefined,
      continuingOn(services.continuations),
    );
    const processor = new BatchProcessor(EventType.SQS);
    const ErasureInput = z.discriminatedUnion('type', [
      ErasureRequestedV1,
      SubjectRequestContinuedV1,
    ]);
    const recordHandler = (record: SQSRecord) =>
      batch.applyOnce(record, ErasureInput, (event) => operation.handle(event));
    const handler = batch.handler((event, context) =>
      processPartialResponse(event, inSubjectOrder(recordHandler), processor, {
        context,
        ...IN_SUBJECT_ORDER,
      }),
    );
    return (event, context) => handler(event as SQSEvent, context);
  }
  if (fn === 'access-request' || fn === 'account-closure') {
    const services = { ...functionServices(fn, env(fn)), now };
    const options = {
      s3: services.exports.s3,
      exportBucket: services.exports.bucket,
      budget: services.continuations,
    };
    const batch = new OperationBatch(fn, services, undefined, continuingOn(services.continuations));
    const processor = new BatchProcessor(EventType.SQS);
    let recordHandler: (record: SQSRecord) => Promise<void>;
    if (fn === 'access-request') {
      const operation = new AccessRequestOperation(services, options);
      const AccessInput = z.discriminatedUnion('type', [
        AccessRequestedV1,
        SubjectRequestContinuedV1,
      ]);
      recordHandler = (record) =>
        batch.applyOnce(record, AccessInput, (event) => operation.handle(event));
    } else {
      const operation = new AccountClosureOperation(services, options);
      const RelationshipEvent = z.discriminatedUnion('type', [
        AccountClosedV1,
        AccountReopenedV1,
        SubjectRequestContinuedV1,
      ]);
      recordHandler = (record) =>
        batch.applyOnce(record, RelationshipEvent, (event) => operation.handle(event));
    }
    const handler = batch.handler((event, context) =>
      processPartialResponse(event, inSubjectOrder(recordHandler), processor, {
        context,
        ...IN_SUBJECT_ORDER,
      }),
    );
    return (event, context) => handler(event as SQSEvent, context);
  }
  if (fn === 'document-upload') {
    const services = { ...functionServices('document-upload', env(fn)), now };
    const operation = new DocumentUploadOperation(services, {
      s3: services.uploads.s3,
      uploadBucket: services.uploads.bucket,
    });
    const batch = new KeyedOperationBatch('document-upload', services);
    const processor = new BatchProcessor(EventType.SQS);
    const recordHandler = (record: SQSRecord) =>
      batch.applyKeyed(record, DocumentUploadedV1, (event, log) => operation.handle(event, log));
    const handler = batch.handler((event, context) =>
      processPartialResponse(event, inSubjectOrder(recordHandler), processor, {
        context,
        ...IN_SUBJECT_ORDER,
      }),
    );
    return (event, context) => handler(event as SQSEvent, context);
  }
  if (fn === 'retention-expiry') {
    const services = { ...functionServices('retention-expiry', env(fn)), now };
    const expiry = new DocumentExpiry(services);
    const { log } = services;
    const invocations = new BatchInvocation({ log, logger: services.logger });
    const processor = new BatchProcessor(EventType.DynamoDBStreams);
    const recordHandler = async (record: DynamoDBRecord) => {
      const { unmarshall } = await import('@aws-sdk/util-dynamodb');
      const old = record.dynamodb?.OldImage;
      if (!old) return;
      const item = unmarshall(old as never) as DocumentItem;
      for (const entry of await expiry.ttlRemoved(item, logObjectsOf(log))) log.add(entry);
    };
    return (event, context) =>
      invocations.run(
        context,
        () =>
          processPartialResponse(event as DynamoDBStreamEvent, recordHandler, processor, {
            context,
            throwOnFullBatchFailure: false,
            processInParallel: false,
          }),
        (_response, error) => {
          throw error;
        },
      );
  }
  const services = { ...functionServices('retention-sweep', env('retention-sweep')), now };
  const sweeper = new RetentionSweeper(services);
  return () => sweeper.sweep(services.log);
}

/** An SQS event of one message carrying `body` (the same message id on every delivery). */
export function sqsEvent(messageId: string, body: unknown): SQSEvent {
  return sqsEventOf(body, { messageId, queue: 'crash-points' });
}

/** The stream record TTL's removal of `item` produces (its old image). */
export function ttlRemoval(item: DocumentItem, sequence: string): DynamoDBStreamEvent {
  return {
    Records: [
      {
        eventID: sequence,
        eventName: 'REMOVE',
        eventSource: 'aws:dynamodb',
        awsRegion: 'eu-west-3',
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
        dynamodb: {
          SequenceNumber: sequence,
          OldImage: marshall(item, { removeUndefinedValues: true }) as never,
          StreamViewType: 'OLD_IMAGE',
        },
      },
    ],
  };
}

/** How one attempt went. */
export interface AttemptOutcome {
  /** The injected crash fired: the invocation died at that call. */
  readonly crashed: boolean;
  /** SDK calls the attempt made (the crashing one included). */
  readonly calls: number;
  /** The handler threw or reported failed records. */
  readonly failed: boolean;
}

let attempts = 0;

/**
 * Runs one attempt of an instance; with `crashAt`, the attempt dies at its `crashAt`th SDK call
 * (that call and every later one fail before reaching the endpoint). Its calls are the scope
 * `scopeName` (@default a name of its own).
 */
export async function attempt(
  injector: FaultInjector,
  run: Attempt,
  event: unknown,
  crashAt?: number,
  scopeName?: string,
): Promise<AttemptOutcome> {
  attempts += 1;
  const scope: CallScope = { name: scopeName ?? `crash-attempt-${attempts}`, calls: new Map() };
  // The trigger closes over this attempt's instance: disarmed when the attempt ends, fired or not.
  const disarm =
    crashAt === undefined
      ? undefined
      : injector.crashOnce({ match: (c) => c.scope === scope.name, nth: crashAt });
  let failed = false;
  try {
    const response = (await inCallScope(scope, () => run(event, shortContext()))) as
      { batchItemFailures?: unknown[] } | undefined;
    failed = (response?.batchItemFailures?.length ?? 0) > 0;
  } catch {
    failed = true;
  } finally {
    disarm?.();
  }
  const calls = [...scope.calls.entries()]
    .filter(([op]) => !op.startsWith('__crash'))
    .reduce((n, [, c]) => n + c, 0);
  return { crashed: Boolean(scope.crashed), calls, failed };
}

/** Reads the log objects written since the last call (only new keys are fetched). */
export class LogTail {
  private readonly seen = new Set<string>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** Records of the objects written since the last call. */
  async next(): Promise<ProcessingLogRecord[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: 'dt=', ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (!this.seen.has(o.Key!)) keys.push(o.Key!);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const records: ProcessingLogRecord[] = [];
    for (const key of keys) {
      this.seen.add(key);
      const got = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const text = gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString('utf8');
      for (const line of text.split('\n')) if (line.trim()) records.push(JSON.parse(line));
    }
    return records;
  }
}
