import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { localClientOptions } from '../../local/client-options';
import { registerClientPlugin } from '../../shared/aws/client-config';
import { subjectKey } from '../../shared/retention/retention-items';
import { CallGate } from '../support/call-gate';
import { FaultInjector } from '../support/fault-injector';
import { attempt, freshInstance, sqsEvent } from './crash-harness';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

jest.setTimeout(300_000);

/**
 * An upload that withdraws its new item because the subject changed meanwhile, and whose
 * withdrawal's answer is lost: the SDK's retry of the DeleteItem is refused (the item is already
 * gone). The upload must not take that refusal for another operation's claim on the item and log
 * the document stored: it retries, and ends with its item, its vault object and one `stored`.
 */
describe('an upload whose withdrawal answer was lost', () => {
  const injector = new FaultInjector();
  const gate = new CallGate();
  let unregister: Array<() => void>;
  let h: OperationsHarness;

  beforeAll(async () => {
    unregister = [registerClientPlugin(injector), registerClientPlugin(gate)];
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
    for (const undo of unregister ?? []) undo();
  });

  it('retries instead of logging a document stored with no retention item', async () => {
    // Prepare: an upload, held at its second read of the subject record (after its item is created)
    const who = 'withdraw-lost-answer';
    const body = await h.upload(who, `${who}-d1`, 'contract', 'content');
    const event = sqsEvent(`${who}-1`, body);
    const scope = 'withdraw-upload';
    const isSubjectRead = (c: {
      scope: string;
      operation: string;
      input: Record<string, unknown>;
    }) =>
      c.scope === scope &&
      c.operation === 'GetItem' &&
      (c.input.Key as { sk?: { S?: string } } | undefined)?.sk?.S === 'SUBJECT';
    const pause = gate.pauseAt(isSubjectRead, 2);
    const upload = freshInstance(h.pipeline, 'document-upload', () => new Date());
    const first = attempt(injector, upload, event, undefined, scope);
    const reached = await Promise.race([pause.reached.then(() => true), first.then(() => false)]);
    expect(reached).toBe(true);
    // Act: the subject changes meanwhile (as a closure or a hold would), and the withdrawal's
    // answer is lost after it took effect
    const dynamo = DynamoDBDocumentClient.from(
      new DynamoDBClient(localClientOptions(h.pipeline.endpoint)),
    );
    await dynamo.send(
      new UpdateCommand({
        TableName: h.outputs.RetentionTableName,
        Key: { pk: subjectKey('acme-sas', await h.pseudonym(who)), sk: 'SUBJECT' },
        UpdateExpression:
          'SET #v = if_not_exists(#v, :zero) + :one, kind = :kind, tenant = :tenant, subject = :subject',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: {
          ':zero': 0,
          ':one': 1,
          ':kind': 'subject',
          ':tenant': 'acme-sas',
          ':subject': await h.pseudonym(who),
        },
      }),
    );
    injector.failNext(
      1,
      'server-error',
      'after',
      (c) => c.scope === scope && c.operation === 'DeleteItem',
    );
    pause.release();
    let outcome = await first;
    for (let retry = 0; outcome.failed && retry < 3; retry += 1)
      outcome = await attempt(injector, upload, event, undefined, scope);
    // Assess: the document is stored once, with its item
    expect(outcome.failed).toBe(false);
    const items = Object.values(await h.items(who)).filter((i) => i.documentId === `${who}-d1`);
    expect(items.map((i) => i.state)).toEqual(['waiting-anchor']); // a contract waits for the closure
    const stored = (await h.logs()).filter(
      (r) => r.operation === 'stored' && r.eventId === (body as { id: string }).id,
    );
    expect(stored).toHaveLength(1);
  });
});
