import { drainDeadLetters } from '../support/dead-letters';
import type { Message } from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/main';
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
  const drainDlq = () => drainDeadLetters(h.sqs, h.outputs.DeadLetterQueueUrl);

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
    await drainDlq();
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
      const dead = await drainDlq();
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
      const dead = await drainDlq();
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

    it('refuses an id reused for an event of another type, which another function applies', async () => {
      // Prepare: an erasure, then an access request reusing its id
      const subjectId = 'emp-reuse-type';
      const erasure = h.event('privacy.erasure.requested.v1', {
        subjectId,
        requestId: 'req-reuse-type-1',
        receivedAt: new Date().toISOString(),
      });
      const access = h.event('privacy.access.requested.v1', {
        subjectId,
        requestId: 'req-reuse-type-2',
        receivedAt: new Date().toISOString(),
      });
      access.id = erasure.id;
      // Act
      await h.send(erasure);
      await h.send(access);
      const dead = await drainDlq();
      const records = (await readLog()).records.filter((r) => r.eventId === erasure.id);
      // Assess
      expect(dead.map(reasonOf)).toEqual(['id-reused-with-different-payload']);
      expect(dead.map((m) => (JSON.parse(m.Body!) as { type: string }).type)).toEqual([
        'privacy.access.requested.v1',
      ]);
      expect(records.filter((r) => r.actor === 'access-request').map((r) => r.operation)).toEqual([
        'rejected',
      ]);
    });

    it('a duplicate with the same payload has one effect and is not refused', async () => {
      // Prepare
      const once = await h.upload('emp-dup', 'doc-dup', 'case-document', 'dup');
      // Act
      await h.send(once, structuredClone(once));
      const dead = await drainDlq();
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
      const dead = await drainDlq();
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

    it('an upload whose retention ended before it arrived is logged so and expired by the next sweep', async () => {
      // Prepare: training attendance is kept 10 years from its date
      const subjectId = 'emp-too-old';
      const upload = await h.upload(subjectId, 'att-2010', 'training-attendance', 'attended', {
        documentDate: '2010-03-01',
      });
      // Act
      await h.send(upload);
      const stored = (await readLog()).records.filter((r) => r.eventId === upload.id);
      const swept = await h.sweep(new Date().toISOString());
      const subject = await h.pseudonym(subjectId);
      const expired = (await readLog()).records.filter(
        (r) => r.operation === 'expired' && r.subject === subject,
      );
      const vault = await h.listKeys(h.outputs.VaultBucketName, `acme-sas/${subject}/`);
      // Assess
      expect(stored.map((r) => [r.operation, r.outcome, r.reason])).toEqual([
        ['received', 'success', null],
        ['stored', 'success', 'retention-ended-before-upload'],
      ]);
      expect(stored[1]!.retainUntil! < '2020-03-02').toBe(true);
      expect(swept.expired).toBeGreaterThanOrEqual(1);
      expect(expired.map((r) => r.outcome)).toEqual(['success']);
      expect(await h.items(subjectId)).toEqual({});
      expect(vault).toEqual([]);
    });
  });

  describe('producer values in the log', () => {
    it('takes an access request whose id is not ASCII, and keeps it out of every header and of the log', async () => {
      // Prepare: an id with accents and a control character
      const subjectId = 'emp-accents';
      const requestId = 'demande-accès-ü\u0007';
      await h.send(await h.upload(subjectId, 'doc-accents', 'case-document', 'accents'));
      const access = h.event('privacy.access.requested.v1', {
        subjectId,
        requestId,
        receivedAt: new Date().toISOString(),
      });
      // Act
      await h.send(access);
      const dead = await drainDlq();
      const log = await readLog();
      const records = log.records.filter((r) => r.eventId === access.id);
      // Assess
      expect(dead.map(reasonOf)).toEqual([]);
      expect(records.map((r) => r.operation)).toEqual([
        'received',
        'exported',
        'request-completed',
      ]);
      expect(new Set(records.map((r) => r.requestId))).toEqual(
        new Set([await h.ctx.pseudonyms.request('acme-sas', requestId)]),
      );
      expect(log.text).not.toContain('demande-acc');
    });

    it('logs request and hold ids only as keyed pseudonyms, and never a hold reason', async () => {
      // Prepare
      const subjectId = 'emp-secrets';
      await h.send(await h.upload(subjectId, 'doc-secrets', 'case-document', 'secrets'));
      const place = h.event('privacy.legal-hold.placed.v1', {
        subjectId,
        holdId: 'HOLDSECRET-1',
        reason: 'HOLDREASONSECRET: litigation against Jane Doe',
      });
      const erase = h.event('privacy.erasure.requested.v1', {
        subjectId,
        requestId: 'REQSECRET-1',
        receivedAt: new Date().toISOString(),
      });
      const release = h.event('privacy.legal-hold.released.v1', {
        subjectId,
        holdId: 'HOLDSECRET-1',
        reason: 'HOLDREASONSECRET: settled',
      });
      // Act
      await h.send(place);
      await h.send(erase);
      await h.send(release);
      const log = await readLog();
      const hold = await h.ctx.pseudonyms.hold('acme-sas', 'HOLDSECRET-1');
      const request = await h.ctx.pseudonyms.request('acme-sas', 'REQSECRET-1');
      const byEvent = (e: Record<string, unknown>) =>
        log.records.filter((r) => r.eventId === e.id).map((r) => r.requestId);
      // Assess
      expect(log.text).not.toMatch(/HOLDSECRET|HOLDREASONSECRET|REQSECRET|Jane Doe/);
      expect(new Set(byEvent(place))).toEqual(new Set([hold]));
      expect(new Set(byEvent(release))).toEqual(new Set([hold]));
      expect(new Set(byEvent(erase))).toEqual(new Set([request]));
      expect(hold).not.toBe(request);
      expect(hold).not.toBe(await h.ctx.pseudonyms.request('acme-sas', 'HOLDSECRET-1'));
    });

    it('refuses an event id or source outside the strict character set, naming which', async () => {
      // Prepare
      const base = () =>
        h.event('privacy.account.closed.v1', {
          subjectId: 'emp-chars',
          closedAt: new Date().toISOString(),
        });
      const spaced = { ...base(), id: 'evt one' };
      const quoted = { ...base(), id: 'evt"<x>' };
      const source: Record<string, unknown> = { ...base(), source: '/svc?name=<script>' };
      // Act
      await h.send(spaced, quoted, source);
      const dead = await drainDlq();
      const reasons = Object.fromEntries(
        dead.map((m) => [(JSON.parse(m.Body!) as { id: string }).id, reasonOf(m)]),
      );
      // Assess
      expect([reasons['evt one'], reasons['evt"<x>'], reasons[source.id as string]]).toEqual([
        'invalid-id',
        'invalid-id',
        'invalid-source',
      ]);
    });
  });

  describe('the auditor finds requests and holds by their ids', () => {
    /** Runs the CLI in-process against this pipeline and captures its output. */
    async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
      const work = mkdtempSync(path.join(tmpdir(), 'hostile-cli-'));
      const outputs = path.join(work, 'outputs.json');
      writeFileSync(
        outputs,
        JSON.stringify({ endpoint: h.pipeline.endpoint, region: 'eu-west-3', ...h.outputs }),
      );
      const out: string[] = [];
      const err: string[] = [];
      try {
        // The shared endpoint holds other test files' pseudonym keys: name this pipeline's.
        const key =
          h.pipeline.runtime.findFunction('erasure-request').environment.PSEUDONYM_KEY_ID!;
        const code = await runCli([...args, '--outputs', outputs, '--key', key], {
          out: (t) => out.push(t),
          err: (t) => err.push(t),
        });
        return { code, out: out.join('\n'), err: err.join('\n') };
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }

    it('computes request and hold pseudonyms, and the named queries take the id or its pseudonym', async () => {
      // Prepare
      const subjectId = 'emp-auditor';
      await h.send(
        h.event('privacy.erasure.requested.v1', {
          subjectId,
          requestId: 'REQ-AUDIT-1',
          receivedAt: new Date().toISOString(),
        }),
        h.event('privacy.legal-hold.placed.v1', {
          subjectId,
          holdId: 'HOLD-AUDIT-1',
          reason: 'audit',
        }),
      );
      // Act
      const request = await cli('pseudonym', '--request', 'REQ-AUDIT-1', '--tenant', 'acme-sas');
      const hold = await cli('pseudonym', '--hold', 'HOLD-AUDIT-1', '--tenant', 'acme-sas');
      const byId = await cli(
        'log',
        'query',
        'operations-by-request',
        '--param',
        'request=REQ-AUDIT-1',
        '--tenant',
        'acme-sas',
        '--format',
        'json',
      );
      const byPseudonym = await cli(
        'log',
        'query',
        'operations-by-request',
        '--param',
        `request=${request.out}`,
        '--format',
        'json',
      );
      const byHold = await cli(
        'log',
        'query',
        'operations-by-hold',
        '--param',
        'hold=HOLD-AUDIT-1',
        '--tenant',
        'acme-sas',
        '--format',
        'json',
      );
      const withoutTenant = await cli(
        'log',
        'query',
        'operations-by-request',
        '--param',
        'request=REQ-AUDIT-1',
      );
      // Assess
      expect(request.out).toBe(await h.ctx.pseudonyms.request('acme-sas', 'REQ-AUDIT-1'));
      expect(hold.out).toBe(await h.ctx.pseudonyms.hold('acme-sas', 'HOLD-AUDIT-1'));
      const operations = (out: string) =>
        (JSON.parse(out) as Array<{ operation: string }>).map((r) => r.operation).sort();
      expect(operations(byId.out)).toEqual(['received', 'request-completed']);
      expect(byPseudonym.out).toBe(byId.out);
      expect(operations(byHold.out)).toEqual(['hold-placed']);
      expect(withoutTenant.code).toBe(2);
      expect(withoutTenant.err).toContain('--tenant');
    });
  });

  describe('refusals by the operations', () => {
    it('refuses an erasure of an unknown category, once even when delivered twice, and the rest of the batch is applied', async () => {
      // Prepare: one erasure naming a category the policy does not have (sent twice), one valid
      const subjectId = 'emp-unknown-category';
      await h.send(await h.upload(subjectId, 'doc-kept', 'case-document', 'kept'));
      const unknown = h.event('privacy.erasure.requested.v1', {
        subjectId,
        requestId: 'req-unknown-category',
        receivedAt: new Date().toISOString(),
        categories: ['no-such-category'],
      });
      const valid = h.event('privacy.erasure.requested.v1', {
        subjectId: 'emp-other',
        requestId: 'req-other',
        receivedAt: new Date().toISOString(),
      });
      // Act
      await h.send(unknown, valid, structuredClone(unknown));
      const dead = await drainDlq();
      const log = await readLog();
      const rejected = log.records.filter((r) => r.eventId === unknown.id);
      const completed = log.records.filter(
        (r) => r.eventId === valid.id && r.operation === 'request-completed',
      );
      // Assess
      expect(dead.map(reasonOf)).toEqual(['unknown-category']);
      expect(rejected.map((r) => [r.operation, r.reason, r.actor])).toEqual([
        ['rejected', 'unknown-category', 'erasure-request'],
      ]);
      expect(rejected[0]!.subject).toBe(await h.pseudonym(subjectId));
      expect(log.text).not.toContain(subjectId);
      expect(completed).toHaveLength(1);
      expect(Object.keys(await h.items(subjectId))).toEqual(['doc-kept']);
    });
  });
});
