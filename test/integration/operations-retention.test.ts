import { sqsEvent } from '../support/sqs-records';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { randomUUID } from 'node:crypto';
import { logObjectsOf } from '../../shared/processing-log/log-object-check';
import { DocumentShreddedError } from '../../shared/vault/errors';
import { vaultKeyOf } from '../../shared/vault/vault-ref';
import { vaultRefOf } from '../../shared/retention/retention-items';
import { DocumentUploadOperation } from '../../shared/operations/document-upload';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

describe('privacy operations: retention, closure, hold, expiry (local endpoint)', () => {
  let h: OperationsHarness;

  beforeAll(async () => {
    h = await startOperationsHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('keeps an accounting document 10 years from its fiscal year end while the account closes; closure starts the waiting clocks, exports first, and the grace period expires case and identity data', async () => {
    // Prepare
    const who = 'emp-closure-1';
    const uploads = [
      await h.upload(who, 'inv-1', 'accounting-document', 'invoice', {
        documentDate: '2026-03-13',
      }),
      await h.upload(who, 'ctr-1', 'contract', 'contract'),
      await h.upload(who, 'case-1', 'case-document', 'case file'),
      await h.upload(who, 'id-1', 'identity-contact', 'identity'),
    ];
    await h.send(...uploads);
    const before = await h.items(who);
    // Act
    await h.send(
      h.event('privacy.account.closed.v1', {
        subjectId: who,
        closedAt: '2026-06-30T00:00:00Z',
        exportBeforeDeletion: true,
      }),
    );
    const after = await h.items(who);
    const subject = await h.pseudonym(who);
    const exportKeys = await h.listKeys(h.outputs.ExportBucketName, `acme-sas/${subject}/closure-`);
    const earlySweep = await h.sweep('2026-07-29T00:00:00Z');
    const afterEarly = await h.items(who);
    const graceSweep = await h.sweep('2026-07-31T00:00:00Z');
    const afterGrace = await h.items(who);
    const logs = (await h.logs()).filter((r) => r.subject === subject);
    // Assess: nothing left in the upload bucket
    expect(await h.versions(h.outputs.UploadBucketName, 'acme-sas/incoming/inv-1')).toBe(0);
    expect(await h.versions(h.outputs.UploadBucketName, 'acme-sas/incoming/case-1')).toBe(0);
    // Assess: schedules
    expect(before['inv-1']).toMatchObject({ state: 'active', dueAt: '2036-12-31T23:00:00.000Z' });
    expect(before['inv-1'].expiresAt).toBe(Date.parse('2036-12-31T23:00:00Z') / 1000);
    expect(before['ctr-1'].state).toBe('waiting-anchor');
    expect(before['ctr-1'].expiresAt).toBeUndefined();
    expect(before['case-1'].state).toBe('waiting-anchor');
    expect(after['inv-1'].dueAt).toBe('2036-12-31T23:00:00.000Z');
    expect(after['ctr-1']).toMatchObject({ state: 'active', dueAt: '2031-06-30T00:00:00.000Z' });
    expect(after['case-1'].dueAt).toBe('2026-07-30T00:00:00.000Z');
    expect(after['id-1'].dueAt).toBe('2026-07-30T00:00:00.000Z');
    // Assess: export before deletion
    expect(exportKeys).toEqual(expect.arrayContaining([expect.stringMatching(/manifest\.json$/)]));
    const manifestKey = exportKeys.find((k) => k.endsWith('manifest.json'))!;
    const manifest = JSON.parse(await h.getText(h.outputs.ExportBucketName, manifestKey));
    expect(manifest.documents.map((d: { documentId: string }) => d.documentId).sort()).toEqual([
      'case-1',
      'ctr-1',
      'id-1',
      'inv-1',
    ]);
    expect(
      await h.getText(
        h.outputs.ExportBucketName,
        manifestKey.replace('manifest.json', 'documents/case-1'),
      ),
    ).toBe('case file');
    // Assess: the grace period
    expect(earlySweep.expired).toBe(0);
    expect(Object.keys(afterEarly).sort()).toEqual(['case-1', 'ctr-1', 'id-1', 'inv-1']);
    expect(graceSweep.expired).toBe(2);
    expect(Object.keys(afterGrace).sort()).toEqual(['ctr-1', 'inv-1']);
    expect(await h.versions(h.outputs.VaultBucketName, `acme-sas/${subject}/case-document/`)).toBe(
      0,
    );
    expect(await h.ctx.vault.isShredded('acme-sas', subject, 'case-document')).toBe(true);
    expect(await h.ctx.vault.get(vaultRefOf(afterGrace['inv-1']))).toEqual(
      new Uint8Array(Buffer.from('invoice')),
    );
    const expired = logs.filter((r) => r.operation === 'expired' && r.outcome === 'success');
    expect(expired.map((r) => r.category).sort()).toEqual(['case-document', 'identity-contact']);
    expect(
      logs.find(
        (r) =>
          r.operation === 'stored' && r.outcome === 'kept' && r.category === 'accounting-document',
      ),
    ).toMatchObject({
      retainUntil: '2036-12-31T23:00:00.000Z',
      reason: 'clock-unchanged:fiscal-year-end',
    });
    expect(logs.filter((r) => r.operation === 'exported' && r.outcome === 'success')).toHaveLength(
      4,
    );
  });

  it('blocks every expiry under a legal hold and lets what fell due run at the next sweep after release', async () => {
    // Prepare: a payslip already due, and a case document of a closed account
    const who = 'emp-hold-1';
    await h.send(
      await h.upload(who, 'pay-2019', 'payroll-document', 'payslip', {
        documentDate: '2019-01-31',
      }),
      h.event('privacy.account.closed.v1', { subjectId: who, closedAt: '2026-01-01T00:00:00Z' }),
    );
    await h.send(await h.upload(who, 'case-h', 'case-document', 'case'));
    const subject = await h.pseudonym(who);
    // Act: hold, sweep past due, erasure during the hold
    await h.send(
      h.event('privacy.legal-hold.placed.v1', {
        subjectId: who,
        holdId: 'hold-1',
        reason: 'litigation',
      }),
    );
    const held = await h.items(who);
    const heldSweep = await h.sweep('2030-01-01T00:00:00Z');
    await h.send(
      h.event('privacy.erasure.requested.v1', {
        subjectId: who,
        requestId: 'req-hold-1',
        receivedAt: new Date().toISOString(),
      }),
    );
    const duringHold = await h.items(who);
    const readableDuringHold = await h.ctx.vault.get(vaultRefOf(duringHold['case-h']));
    await h.send(
      h.event('privacy.legal-hold.released.v1', {
        subjectId: who,
        holdId: 'hold-1',
        reason: 'settled',
      }),
    );
    const released = await h.items(who);
    const releaseSweep = await h.sweep(new Date(Date.now() + 60_000).toISOString());
    const afterSweep = await h.items(who);
    const logs = (await h.logs()).filter((r) => r.subject === subject);
    // Assess: while held, nothing scheduled and nothing deleted
    expect(held['pay-2019']).toMatchObject({ state: 'held', dueAt: '2024-01-30T23:00:00.000Z' });
    expect(held['pay-2019'].expiresAt).toBeUndefined();
    expect(held['case-h'].expiresAt).toBeUndefined();
    expect(heldSweep.expired).toBe(0);
    expect(duringHold['case-h']).toMatchObject({
      state: 'held',
      erasurePending: await h.ctx.pseudonyms.request('acme-sas', 'req-hold-1'),
    });
    expect(readableDuringHold).toEqual(new Uint8Array(Buffer.from('case')));
    expect(logs.filter((r) => r.operation === 'hold-placed' && r.outcome === 'kept')).toHaveLength(
      2,
    );
    expect(logs.find((r) => r.operation === 'erased' && r.outcome === 'skipped')).toMatchObject({
      requestId: await h.ctx.pseudonyms.request('acme-sas', 'req-hold-1'),
      reason: 'legal-hold;erasure-deferred-until-release',
    });
    // Assess: release restores the schedules; the next sweep runs what fell due
    expect(released['pay-2019'].state).toBe('restricted');
    expect(released['pay-2019'].expiresAt).toBe(Date.parse('2024-01-30T23:00:00Z') / 1000);
    expect(releaseSweep.expired).toBe(2);
    expect(afterSweep).toEqual({});
    expect(await h.versions(h.outputs.VaultBucketName, `acme-sas/${subject}/`)).toBe(0);
    expect(
      logs.filter((r) => r.operation === 'erased' && r.outcome === 'success').map((r) => r.reason),
    ).toEqual(['erasure-after-legal-hold;via-sweep']);
  });

  it('re-checks holds when TTL removed an item (stream old image): held → put back, otherwise purged', async () => {
    // Prepare
    const who = 'emp-ttl-1';
    await h.send(
      await h.upload(who, 'pay-a', 'payroll-document', 'a', { documentDate: '2019-01-31' }),
      await h.upload(who, 'pay-b', 'payroll-document', 'b', { documentDate: '2019-02-28' }),
    );
    const items = await h.items(who);
    const subject = await h.pseudonym(who);
    const streamEvent = (item: object) => ({
      Records: [
        {
          eventID: randomUUID(),
          eventName: 'REMOVE',
          eventSource: 'aws:dynamodb',
          awsRegion: 'eu-west-3',
          userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
          dynamodb: {
            SequenceNumber: String(Date.now()),
            OldImage: marshall(item, { removeUndefinedValues: true }),
            StreamViewType: 'OLD_IMAGE',
          },
        },
      ],
    });
    // Act: TTL removes pay-a while no hold → purged
    await h.ctx.store.deleteDocument(items['pay-a']);
    await h.pipeline.runtime.invoke('retention-expiry', streamEvent(items['pay-a']));
    // Act: a hold, then TTL removes pay-b (an in-flight race) → put back, held
    await h.send(
      h.event('privacy.legal-hold.placed.v1', { subjectId: who, holdId: 'h-ttl', reason: 'audit' }),
    );
    await h.ctx.store.deleteDocument(items['pay-b']);
    await h.pipeline.runtime.invoke('retention-expiry', streamEvent(items['pay-b']));
    const after = await h.items(who);
    // Assess: pay-a stays claimed (not live) until the sweeper forgets it once logged
    expect(Object.keys(after).sort()).toEqual(['pay-a', 'pay-b']);
    expect(after['pay-a']).toMatchObject({ state: 'expiring' });
    expect(after['pay-b']).toMatchObject({ state: 'held' });
    expect(after['pay-b'].expiresAt).toBeUndefined();
    expect(
      await h.versions(h.outputs.VaultBucketName, `acme-sas/${subject}/payroll-document/pay-a`),
    ).toBe(0);
    expect(await h.ctx.vault.get(vaultRefOf(after['pay-b']))).toEqual(
      new Uint8Array(Buffer.from('b')),
    );
    const logs = (await h.logs()).filter((r) => r.subject === subject && r.operation === 'expired');
    expect(logs.map((r) => `${r.outcome}:${r.reason}`).sort()).toEqual([
      'skipped:legal-hold;item-restored',
      'success:retention-ended;via-ttl',
    ]);
  });

  it("refuses another tenant's object in document-upload itself (dead-lettered with its reason)", async () => {
    // Prepare: an event of acme-sas pointing into other-co's prefix, delivered straight to the function
    const event = h.event('privacy.document.uploaded.v1', {
      subjectId: 'emp-x',
      documentId: 'foreign-1',
      category: 'accounting-document',
      upload: { bucket: h.outputs.UploadBucketName, key: 'other-co/incoming/foreign-1.pdf' },
    });
    const messageId = randomUUID();
    // Act
    const response = await h.pipeline.runtime.invoke(
      'document-upload',
      sqsEvent(event, { messageId }),
    );
    const dead = await h.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: h.outputs.DeadLetterQueueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const mine = (dead.Messages ?? []).find(
      (m) => m.MessageAttributes?.['original-message-id']?.StringValue === messageId,
    );
    expect(mine?.MessageAttributes?.['rejection-reason']?.StringValue).toBe('foreign-object');
    expect(await h.items('emp-x')).toEqual({});
  });

  it('isolates a sensitive category under its own key and marks its handling in the log', async () => {
    // Prepare
    const who = 'emp-sensitive-1';
    // Act
    await h.send(
      await h.upload(who, 'dis-1', 'disability-status', 'adapted desk', {
        documentDate: '2026-01-05',
      }),
    );
    await h.send(
      await h.upload(who, 'att-1', 'training-attendance', 'attended', {
        documentDate: '2026-01-05',
      }),
    );
    const items = await h.items(who);
    const subject = await h.pseudonym(who);
    const logs = (await h.logs()).filter((r) => r.subject === subject && r.operation === 'stored');
    // Assess
    expect(items['dis-1'].keyClass).toBe('disability-status');
    expect(vaultKeyOf(vaultRefOf(items['dis-1']))).toBe(
      `acme-sas/${subject}/disability-status/dis-1`,
    );
    await h.ctx.vault.shred('acme-sas', subject, ['disability-status']);
    await expect(h.ctx.vault.get(vaultRefOf(items['dis-1']))).rejects.toBeInstanceOf(
      DocumentShreddedError,
    );
    expect(await h.ctx.vault.get(vaultRefOf(items['att-1']))).toEqual(
      new Uint8Array(Buffer.from('attended')),
    );
    expect(logs.find((r) => r.category === 'disability-status')?.reason).toContain(
      'sensitive-art9',
    );
    expect(logs.find((r) => r.category === 'training-attendance')?.reason ?? '').not.toContain(
      'sensitive',
    );
  });

  it('treats a redelivered upload whose object is already gone as a replay, and leaves no orphan', async () => {
    // Prepare
    const who = 'emp-replay-1';
    const event = (await h.upload(who, 'rep-1', 'contract', 'c')) as never;
    const operation = new DocumentUploadOperation(h.ctx, {
      s3: h.s3,
      uploadBucket: h.outputs.UploadBucketName,
    });
    // Act
    const first = await operation.handle(event, logObjectsOf(h.sweepLog));
    // (what the batch does with a first run's records)
    for (const entry of first.entries) h.sweepLog.add(entry);
    const second = await operation.handle(event, logObjectsOf(h.sweepLog));
    h.sweepLog.discard();
    // Assess: a replay, its records already queued for this log object
    expect(first).toMatchObject({ replay: false, logged: true });
    expect(second).toEqual({ entries: first.entries, replay: true, logged: false });
    expect(await h.versions(h.outputs.UploadBucketName, 'acme-sas/incoming/rep-1')).toBe(0);
    expect(Object.keys(await h.items(who))).toEqual(['rep-1']);
  });

  it('the scheduled sweep handler expires, with the real clock, what is past due', async () => {
    // Prepare: a payslip whose 5 years ended long ago
    const who = 'emp-sweep-1';
    await h.send(
      await h.upload(who, 'pay-old', 'payroll-document', 'old', { documentDate: '2015-06-30' }),
    );
    const before = await h.items(who);
    // Act
    const result = await h.pipeline.runtime.invoke('retention-sweep', {
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      time: new Date().toISOString(),
    });
    // Assess
    expect(before['pay-old'].dueAt).toBe('2020-06-29T22:00:00.000Z');
    expect(result).toMatchObject({ truncated: false });
    expect((result as { expired: number }).expired).toBeGreaterThanOrEqual(1);
    expect(await h.items(who)).toEqual({});
  });
});
