import { SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { exampleEvents } from '../../events/examples';
import { localClientOptions } from '../../local/client-options';
import { readLogObjects } from '../../shared/processing-log/reader';
import { drainDeadLetters } from '../support/dead-letters';
import { startTestPipeline } from '../helpers/local-pipeline';

jest.setTimeout(240_000);

/** The sender id moto gives every message (what SQS gives Lambda as `attributes.SenderId`). */
const LOCAL_SENDER_ID = 'AIDAIT2UOQQY3AUEKVGXU';

interface LogRecord {
  operation: string;
  outcome: string;
  tenant: string;
  eventId: string | null;
  eventSource: string | null;
  reason: string | null;
  actor: string;
}

/**
 * A pipeline whose intake runs with `registry` (PRODUCERS_FILE, as config/producers.json would be
 * deployed), with clients on its endpoint and the means to send, drain and read the log.
 */
async function pipelineWith(registry: unknown) {
  const pipeline = await startTestPipeline({ producers: registry });
  const outputs = pipeline.environment.outputs;
  const sqs = new SQSClient(localClientOptions(pipeline.endpoint));
  const s3 = new S3Client(localClientOptions(pipeline.endpoint));
  return {
    outputs,
    /** Sends each event as its own message, waits until the pipeline is idle. */
    async send(...events: unknown[]): Promise<void> {
      for (const e of events)
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: outputs.IngressQueueUrl,
            MessageBody: JSON.stringify(e),
          }),
        );
      await pipeline.runtime.waitForIdle(90_000);
    },
    drain: (): Promise<Message[]> => drainDeadLetters(sqs, outputs.DeadLetterQueueUrl),
    async log(): Promise<LogRecord[]> {
      const objects = await readLogObjects<LogRecord>(s3, outputs.LogBucketName);
      return objects.flatMap((o) => o.records);
    },
    async stop(): Promise<void> {
      await pipeline.stop();
      sqs.destroy();
      s3.destroy();
    },
  };
}

const examples = exampleEvents();
const erasure = (id: string, change: Record<string, unknown> = {}) => ({
  ...examples['privacy.erasure.requested.v1'],
  id,
  ...change,
});
const reasonOf = (m: Message) => m.MessageAttributes?.['rejection-reason']?.StringValue;
const idOf = (m: Message) => (JSON.parse(m.Body!) as { id: string }).id;

describe('the producer registry at the intake (local endpoint, as SQS gives the sender)', () => {
  describe('a producer registered for one tenant, one source and two types', () => {
    let h: Awaited<ReturnType<typeof pipelineWith>>;
    let deadLetters: Message[];
    let log: LogRecord[];

    beforeAll(async () => {
      // Prepare: the local sender may act only for acme-sas, as /expense-service, for requests
      h = await pipelineWith({
        version: 1,
        producers: {
          'acme-expenses': {
            principal: 'arn:aws:iam::123456789012:user/acme-expenses',
            senderId: LOCAL_SENDER_ID,
            sources: ['/expense-service'],
            tenants: ['acme-sas'],
            types: ['privacy.erasure.requested.v1', 'privacy.access.requested.v1'],
          },
        },
      });
      // Act
      await h.send(
        erasure('reg-allowed'),
        erasure('reg-tenant', { tenantid: 'globex-gmbh' }),
        erasure('reg-source', { source: '/payroll-service' }),
        { ...examples['privacy.legal-hold.placed.v1'], id: 'reg-type' },
      );
      deadLetters = await h.drain();
      log = await h.log();
    });

    afterAll(() => h?.stop());

    it('takes the event the registration allows to its operation', () => {
      // Assess
      expect(deadLetters.map(idOf)).not.toContain('reg-allowed');
      expect(log.some((r) => r.actor === 'erasure-request' && r.eventId === 'reg-allowed')).toBe(
        true,
      );
    });

    it.each([
      ['reg-tenant', 'producer-not-authorised:tenant'],
      ['reg-source', 'producer-not-authorised:source'],
      ['reg-type', 'producer-not-authorised:type'],
    ])('refuses %s to the dead-letter queue with %s and one rejected record', (id, reason) => {
      // Assess
      const inQueue = deadLetters.filter((m) => idOf(m) === id);
      expect(inQueue.map(reasonOf)).toEqual([reason]);
      const rejected = log.filter((r) => r.operation === 'rejected' && r.eventId === id);
      expect(rejected).toHaveLength(1);
      expect(rejected[0]).toMatchObject({ actor: 'intake', outcome: 'rejected', reason });
      expect(log.some((r) => r.actor !== 'intake' && r.eventId === id)).toBe(false);
    });
  });

  describe('a sender the registry does not name', () => {
    let h: Awaited<ReturnType<typeof pipelineWith>>;

    beforeAll(async () => {
      // Prepare: only another principal is registered, for every tenant, source and type
      h = await pipelineWith({
        version: 1,
        producers: {
          'someone-else': {
            principal: 'arn:aws:iam::123456789012:role/someone-else',
            senderId: 'AROAEXAMPLEOTHER0001',
            sources: '*',
            tenants: '*',
            types: '*',
          },
        },
      });
    });

    afterAll(() => h?.stop());

    it('refuses every event it sends with producer-not-authorised:sender', async () => {
      // Act
      await h.send(erasure('reg-sender'));
      const deadLetters = await h.drain();
      const log = await h.log();
      // Assess
      expect(deadLetters.map((m) => [idOf(m), reasonOf(m)])).toEqual([
        ['reg-sender', 'producer-not-authorised:sender'],
      ]);
      const rejected = log.filter((r) => r.operation === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0]).toMatchObject({
        actor: 'intake',
        reason: 'producer-not-authorised:sender',
        eventId: 'reg-sender',
      });
      expect(JSON.stringify(log)).not.toContain(LOCAL_SENDER_ID);
    });
  });
});
