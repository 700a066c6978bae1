import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { ErasureRequestedV1 } from '../../events';
import { exampleEvents } from '../../events/examples';
import type { DeadLetterRouter } from '../../shared/batch/dead-letter';
import { OperationBatch } from '../../shared/batch/operation-batch';
import { rejectionRecord } from '../../shared/batch/rejection-record';
import type { Rejector } from '../../shared/batch/rejector';
import type { LogEntry, ProcessingLogWriter } from '../../shared/processing-log/writer';

const PSEUDONYM = 'a'.repeat(64);

/**
 * An operation's steps over fakes: the rejector (without its idempotency table) logs what the
 * sanitizer lets through and keeps the reasons it dead-lettered.
 */
function operationOverFakes() {
  const entries: LogEntry[] = [];
  const deadLettered: string[] = [];
  const pseudonyms = { subject: async () => PSEUDONYM };
  const rejector: Pick<Rejector, 'reject' | 'registerLambdaContext'> = {
    reject: async (_record, error, raw) => {
      entries.push(await rejectionRecord(raw, error.reason, pseudonyms));
      deadLettered.push(error.reason);
      return { deadLettered: true, logged: true };
    },
    registerLambdaContext: () => undefined,
  };
  const batch = new OperationBatch(
    'erasure-request',
    {
      log: { add: (entry: LogEntry) => entries.push(entry) } as unknown as ProcessingLogWriter,
      deadLetters: {
        reject: async (_record: unknown, reason: string) => void deadLettered.push(reason),
      } as unknown as DeadLetterRouter,
      pseudonyms: { subject: async () => PSEUDONYM },
      idempotency: { table: 'idempotency', dynamo: new DynamoDBClient({ region: 'eu-west-3' }) },
      logger: new Logger({ logLevel: 'SILENT' }),
    },
    rejector,
  );
  /** What the erasure function's record handler does with a message of this body. */
  const send = async (body: unknown): Promise<void> => {
    const record = { messageId: 'msg-1', body: JSON.stringify(body) } as SQSRecord;
    try {
      batch.parse(record, ErasureRequestedV1);
    } catch (error) {
      await batch.rejectOrRethrow(record, error);
    }
  };
  return { batch, send, entries, deadLettered };
}

describe('an operation rejecting an event', () => {
  it('logs what a rejected event may show: never an identifier equal to the subject id', async () => {
    // Prepare
    const { send, entries, deadLettered } = operationOverFakes();
    const erasure = exampleEvents()['privacy.erasure.requested.v1'];
    const invalid = {
      ...erasure,
      id: 'emp-00042',
      source: 'emp-00042',
      data: { ...erasure.data, receivedAt: 'yesterday' },
    };
    // Act
    await send(invalid);
    // Assess
    expect(deadLettered).toEqual(['invalid-field:data.receivedAt']);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      tenant: 'acme-sas',
      operation: 'rejected',
      outcome: 'rejected',
      subject: PSEUDONYM,
      eventId: null,
      eventSource: null,
      eventType: 'privacy.erasure.requested.v1',
      reason: 'invalid-field:data.receivedAt',
    });
  });

  it('logs an envelope identifier that is not well-formed as null, not cut short', async () => {
    // Prepare
    const { send, entries } = operationOverFakes();
    const erasure = exampleEvents()['privacy.erasure.requested.v1'];
    const invalid = { ...erasure, id: `x${'\n'}y` };
    // Act
    await send(invalid);
    // Assess
    expect(entries[0]).toMatchObject({ eventId: null, reason: 'invalid-id' });
  });

  it('rethrows a transient error without dead-lettering or logging anything', async () => {
    // Prepare
    const { batch, entries, deadLettered } = operationOverFakes();
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    // Act
    const attempt = batch.rejectOrRethrow({ messageId: 'm', body: '{}' } as SQSRecord, throttled);
    // Assess
    await expect(attempt).rejects.toBe(throttled);
    expect(deadLettered).toEqual([]);
    expect(entries).toEqual([]);
  });
});
