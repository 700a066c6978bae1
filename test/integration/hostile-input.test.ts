import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { readLogObjects } from '../../shared/processing-log/reader';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

jest.setTimeout(180_000);

/**
 * Producers' values the pipeline must not trust: ids reused across tenants or with another
 * payload, implausible dates, free text and characters that must not reach the log or a header.
 */
describe('hostile producer values (local endpoint)', () => {
  let h: OperationsHarness;

  /** Receives and deletes everything in the dead-letter queue. */
  async function drainDeadLetters(): Promise<Message[]> {
    const all: Message[] = [];
    for (let empty = 0; empty < 2;) {
      const r = await h.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: h.outputs.DeadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          WaitTimeSeconds: 0,
        }),
      );
      const messages = r.Messages ?? [];
      if (messages.length === 0) {
        empty += 1;
        continue;
      }
      all.push(...messages);
      await h.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: h.outputs.DeadLetterQueueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    return all;
  }

  const reasonOf = (m: Message) => m.MessageAttributes?.['rejection-reason']?.StringValue;
  const eventIdOf = (m: Message) => (JSON.parse(m.Body!) as { id: string }).id;

  /** Every log object's raw (gunzipped) text and its records. */
  async function readLog(): Promise<{ text: string; records: ProcessingLogRecord[] }> {
    const objects = await readLogObjects<ProcessingLogRecord>(h.s3, h.outputs.LogBucketName);
    return {
      text: objects.map((o) => o.text).join(''),
      records: objects.flatMap((o) => o.records),
    };
  }

  beforeAll(async () => {
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(async () => {
    await drainDeadLetters();
  });

  describe('idempotency', () => {
    it('two tenants whose producers share a source and reuse an id both take effect', async () => {
      // Prepare: the same (source, id) from two controllers' producers
      const acme = await h.upload('emp-shared-id', 'doc-acme', 'case-document', 'acme', {
        tenant: 'acme-sas',
      });
      const globex = await h.upload('emp-shared-id', 'doc-globex', 'case-document', 'globex', {
        tenant: 'globex-sarl',
      });
      globex.id = acme.id;
      // Act
      await h.send(acme, globex);
      const dead = await drainDeadLetters();
      // Assess
      expect(Object.keys(await h.items('emp-shared-id', 'acme-sas'))).toEqual(['doc-acme']);
      expect(Object.keys(await h.items('emp-shared-id', 'globex-sarl'))).toEqual(['doc-globex']);
      expect(dead).toEqual([]);
    });

    it('refuses an id reused by its producer with another payload, with its reason and one rejected record', async () => {
      // Prepare: one id, two different documents
      const first = await h.upload('emp-reuse', 'doc-reuse-1', 'case-document', 'one');
      const second = await h.upload('emp-reuse', 'doc-reuse-2', 'case-document', 'two');
      second.id = first.id;
      // Act
      await h.send(first);
      await h.send(second);
      const dead = await drainDeadLetters();
      const rejected = (await readLog()).records.filter(
        (r) => r.operation === 'rejected' && r.eventId === first.id,
      );
      // Assess
      expect(Object.keys(await h.items('emp-reuse'))).toEqual(['doc-reuse-1']);
      expect(dead.map(reasonOf)).toEqual(['id-reused-with-different-payload']);
      expect(dead.map(eventIdOf)).toEqual([first.id]);
      expect(rejected).toHaveLength(1);
      expect(rejected[0]).toMatchObject({
        reason: 'id-reused-with-different-payload',
        actor: 'document-upload',
      });
    });

    it('a duplicate with the same payload has one effect and is not refused', async () => {
      // Prepare
      const once = await h.upload('emp-dup', 'doc-dup', 'case-document', 'dup');
      // Act
      await h.send(once, structuredClone(once));
      const dead = await drainDeadLetters();
      const stored = (await readLog()).records.filter(
        (r) => r.operation === 'stored' && r.eventId === once.id,
      );
      // Assess
      expect(dead).toEqual([]);
      expect(stored).toHaveLength(1);
    });
  });

  describe('dates', () => {
    const DAY = 86_400_000;
    const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

    it('refuses every date before 1970 or more than a day ahead, naming the field', async () => {
      // Prepare: one implausible date per field, each in an otherwise valid event
      const subjectId = 'emp-dates';
      const receipt = { subjectId, requestId: 'req-dates', receivedAt: inDays(0) };
      const events = [
        h.event('privacy.erasure.requested.v1', receipt, '0001-01-01T00:00:00Z'),
        h.event('privacy.account.closed.v1', { subjectId, closedAt: '9999-12-31T00:00:00Z' }),
        h.event('privacy.access.requested.v1', { ...receipt, receivedAt: inDays(2) }),
        h.event('privacy.erasure.requested.v1', { ...receipt, receivedAt: '1969-12-31T23:59:59Z' }),
        await h.upload(subjectId, 'doc-dates', 'case-document', 'dates', {
          documentDate: '1960-01-01',
        }),
      ];
      // Act
      await h.send(...events);
      const dead = await drainDeadLetters();
      const reasons = Object.fromEntries(dead.map((m) => [eventIdOf(m), reasonOf(m)]));
      const rejected = (await readLog()).records.filter((r) =>
        events.some((e) => e.id === r.eventId),
      );
      // Assess
      expect(events.map((e) => reasons[e.id as string])).toEqual([
        'implausible-date:time',
        'implausible-date:data.closedAt',
        'implausible-date:data.receivedAt',
        'implausible-date:data.receivedAt',
        'implausible-date:data.documentDate',
      ]);
      expect(rejected.map((r) => r.operation)).toEqual(Array(5).fill('rejected'));
      expect(await h.items(subjectId)).toEqual({});
    });

    it('never writes a tombstone later than the time it was written', async () => {
      // Prepare: an erasure dated twelve hours ahead (plausible: within a day)
      const subjectId = 'emp-ahead';
      const erasure = h.event(
        'privacy.erasure.requested.v1',
        { subjectId, requestId: 'req-ahead', receivedAt: inDays(0) },
        inDays(0.5),
      );
      // Act
      await h.send(erasure);
      const writtenBy = new Date().toISOString();
      const record = await h.ctx.store.getSubject('acme-sas', await h.pseudonym(subjectId));
      // Assess
      expect(record.tombstones?.['*']).toBeDefined();
      expect(record.tombstones!['*']! <= writtenBy).toBe(true);
    });

    it('an upload whose retention ended before it arrived is never stored: expired at once, logged, upload removed', async () => {
      // Prepare: training attendance is kept 10 years from its date
      const subjectId = 'emp-too-old';
      const upload = await h.upload(subjectId, 'att-2010', 'training-attendance', 'attended', {
        documentDate: '2010-03-01',
      });
      // Act
      await h.send(upload);
      const records = (await readLog()).records.filter((r) => r.eventId === upload.id);
      const left = await h.listKeys(h.outputs.UploadBucketName, 'acme-sas/incoming/att-2010');
      const vault = await h.listKeys(
        h.outputs.VaultBucketName,
        `acme-sas/${await h.pseudonym(subjectId)}/`,
      );
      // Assess
      expect(await h.items(subjectId)).toEqual({});
      expect(records.map((r) => [r.operation, r.outcome, r.reason])).toEqual([
        ['received', 'success', null],
        ['expired', 'success', 'retention-ended-before-upload'],
      ]);
      expect(records[1]!.retainUntil! < '2020-03-02').toBe(true);
      expect(left).toEqual([]);
      expect(vault).toEqual([]);
    });
  });
});
