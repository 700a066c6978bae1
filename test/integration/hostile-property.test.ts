import { drainDeadLetters } from '../support/dead-letters';
import fc from 'fast-check';
import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { readLogObjects } from '../../shared/processing-log/reader';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

jest.setTimeout(600_000);

/** What is wrong with one generated event (at most one thing, so its reason is known). */
type Fault =
  | { readonly kind: 'none' }
  | { readonly kind: 'date'; readonly value: string }
  | { readonly kind: 'id'; readonly value: string }
  | { readonly kind: 'unknown-category' }
  | { readonly kind: 'reuse'; readonly of: number }
  | { readonly kind: 'wrong-tenant' }
  | { readonly kind: 'oversize' };

/** One generated event before it is built: its type, subject, free-text values and its fault. */
interface EventSpec {
  readonly type: 'upload' | 'erasure' | 'access' | 'closure' | 'hold-placed' | 'hold-released';
  readonly subject: number;
  /** Producer-chosen text (control and non-ASCII characters included) appended to ids and reasons. */
  readonly text: string;
  readonly fault: Fault;
}

const DAY = 86_400_000;
const EXTREME_DATES = [
  '0001-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '9999-12-31T23:59:59Z',
  new Date(Date.now() + 3 * DAY).toISOString(),
];
/** The producer sends for the run tenants only (moto gives every message this sender id). */
const LOCAL_SENDER_ID = 'AIDAIT2UOQQY3AUEKVGXU';
const RUNS = 2;
const tenantOf = (run: number) => `prop-r${run}`;
const REGISTRY = {
  version: 1,
  producers: {
    'property-producer': {
      principal: 'arn:aws:iam::123456789012:user/property-producer',
      senderId: LOCAL_SENDER_ID,
      sources: '*',
      tenants: Array.from({ length: 10 * RUNS }, (_, n) => tenantOf(n + 1)),
      types: '*',
    },
  },
};
/** The upload limit of this pipeline: an oversize document is a little over it. */
const MAX_DOCUMENT_BYTES = 1024;
const HOSTILE_IDS = ['evt one', 'evt\u0007bell', 'évènement', 'evt"<x>', 'evt\u0000nul'];
/** Every reason a refusal may carry. */
const REASON =
  /^(oversize|invalid-json|unknown-type|invalid-id|invalid-source|(invalid-field|implausible-date|producer-not-authorised):[A-Za-z0-9._()-]+|unknown-category|id-reused-with-different-payload|unprocessable:[A-Za-z]+|[a-z-]+)$/;

const fault: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Fault>({ kind: 'none' }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...EXTREME_DATES).map<Fault>((value) => ({ kind: 'date', value })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...HOSTILE_IDS).map<Fault>((value) => ({ kind: 'id', value })),
  },
  { weight: 1, arbitrary: fc.constant<Fault>({ kind: 'unknown-category' }) },
  { weight: 1, arbitrary: fc.nat(30).map<Fault>((of) => ({ kind: 'reuse', of })) },
  { weight: 1, arbitrary: fc.constant<Fault>({ kind: 'wrong-tenant' }) },
  { weight: 1, arbitrary: fc.constant<Fault>({ kind: 'oversize' }) },
);

const spec: fc.Arbitrary<EventSpec> = fc.record({
  type: fc.constantFrom('upload', 'erasure', 'access', 'closure', 'hold-placed', 'hold-released'),
  subject: fc.nat(2),
  text: fc.string({ unit: 'binary', maxLength: 6 }),
  fault,
});

/**
 * Random hostile events (extreme dates, ids outside the character set, ids reused with another
 * payload, unknown categories, a tenant the producer is not registered for, documents over the
 * size limit, control and non-ASCII characters in free text) through the intake
 * and the operations: nothing crashes, every event either takes effect with its log records or
 * reaches the dead-letter queue with its reason and one `rejected` record, and no byte of the log
 * holds a subject id, request id, hold id or hold reason in clear.
 */
describe('hostile events, generated (local endpoint)', () => {
  let h: OperationsHarness;

  beforeAll(async () => {
    h = await startOperationsHarness({
      producers: REGISTRY,
      variables: { 'document-upload': { MAX_DOCUMENT_BYTES: String(MAX_DOCUMENT_BYTES) } },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const drainDlq = () => drainDeadLetters(h.sqs, h.outputs.DeadLetterQueueUrl);

  /**
   * The events of one run, for its own tenant (or another it may not act for), with the markers
   * that must never reach the log.
   */
  async function build(specs: readonly EventSpec[], run: number) {
    const tenant = tenantOf(run);
    const intruder = `intruder-r${run}`;
    const tag = `${Date.now().toString(36)}r${run}`;
    const markers = [`SUBJ${tag}`, `REQ${tag}`, `HLD${tag}`, `WHY${tag}`, `DOC${tag}`];
    const events: Array<Record<string, unknown>> = [];
    for (const [i, s] of specs.entries()) {
      const subjectId = `SUBJ${tag}-${s.subject}`;
      const date = s.fault.kind === 'date' ? s.fault.value : new Date().toISOString();
      const requestId = `REQ${tag}-${i}${s.text}`;
      const eventTenant = s.fault.kind === 'wrong-tenant' ? intruder : tenant;
      const hold = {
        subjectId,
        holdId: `HLD${tag}-${s.subject}${s.text}`,
        reason: `WHY${tag} ${s.text}`,
      };
      const data: Record<string, Record<string, unknown>> = {
        erasure: {
          subjectId,
          requestId,
          receivedAt: date,
          ...(s.fault.kind === 'unknown-category' ? { categories: ['no-such-category'] } : {}),
        },
        access: { subjectId, requestId, receivedAt: date },
        closure: { subjectId, closedAt: date },
        'hold-placed': hold,
        'hold-released': hold,
      };
      const type = {
        erasure: 'privacy.erasure.requested.v1',
        access: 'privacy.access.requested.v1',
        closure: 'privacy.account.closed.v1',
        'hold-placed': 'privacy.legal-hold.placed.v1',
        'hold-released': 'privacy.legal-hold.released.v1',
      };
      // A hold or an upload has no date of its own: its fault goes into the envelope's `time`.
      const time =
        s.fault.kind === 'date' && (s.type.startsWith('hold') || s.type === 'upload')
          ? date
          : undefined;
      // An oversize document is an upload's; a small one carries the run's free text.
      const event =
        s.type === 'upload' || s.fault.kind === 'oversize'
          ? await h.upload(
              subjectId,
              `DOC${tag}-${i}`,
              s.fault.kind === 'unknown-category' ? 'no-such-category' : 'contract',
              s.fault.kind === 'oversize' ? 'x'.repeat(MAX_DOCUMENT_BYTES + 1) : `doc ${s.text}`,
              { tenant: eventTenant, ...(time ? { time } : {}) },
            )
          : h.event(type[s.type], data[s.type]!, time, eventTenant);
      if (s.fault.kind === 'id') event.id = s.fault.value;
      if (s.fault.kind === 'reuse' && i > 0) event.id = events[s.fault.of % i]!.id;
      events.push(event);
    }
    return { tenants: [tenant, intruder], markers, events };
  }

  it('every event takes effect with its records or is dead-lettered with its reason; the log holds nothing in clear', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(spec, { minLength: 12, maxLength: 20 }), async (specs) => {
        // Prepare
        run += 1;
        const { tenants, markers, events } = await build(specs, run);
        await drainDlq();
        // Act
        await h.send(...events);
        const dead = await drainDlq();
        const objects = await readLogObjects<ProcessingLogRecord>(h.s3, h.outputs.LogBucketName);
        const text = objects.map((o) => o.text).join('');
        const records = objects.flatMap((o) => o.records).filter((r) => tenants.includes(r.tenant));
        // Assess: the log holds no marker of a subject, request, hold or reason
        for (const marker of markers) expect(text).not.toContain(marker);
        // every dead letter carries a reason; one `rejected` record each
        const deadBodies = dead.map((m) => m.Body!);
        for (const m of dead)
          expect(m.MessageAttributes?.['rejection-reason']?.StringValue).toMatch(REASON);
        const rejected = records.filter((r) => r.operation === 'rejected');
        const ours = dead.filter((m) => events.some((e) => JSON.stringify(e) === m.Body));
        expect(rejected).toHaveLength(ours.length);
        // every event: in effect (records of its operation) or refused, never both, never neither
        events.forEach((e, i) => {
          const body = JSON.stringify(e);
          const refused = deadBodies.includes(body);
          const applied = records.some(
            (r) => r.eventId === e.id && r.operation !== 'rejected' && r.eventType === e.type,
          );
          const reason = dead.find((m) => m.Body === body)?.MessageAttributes?.['rejection-reason']
            ?.StringValue;
          expect({ i, refused, applied: refused ? false : applied }).toEqual({
            i,
            refused,
            applied: !refused,
          });
          const f = specs[i]!.fault;
          if (f.kind === 'date') expect(reason).toMatch(/^implausible-date:/);
          if (f.kind === 'id') expect(reason).toBe('invalid-id');
          if (f.kind === 'wrong-tenant') expect(reason).toBe('producer-not-authorised:tenant');
          if (f.kind === 'oversize') expect(reason).toMatch(/^(document-too-large|id-reused-.*)$/);
          // An id another event of the run reuses with another payload: whichever of the two
          // the operation sees first is judged on its own, the other is refused as a reuse.
          const reused = events.some((o, j) => j !== i && o.id === e.id);
          if (f.kind === 'unknown-category' && specs[i]!.type === 'erasure')
            expect(reason).toMatch(
              reused
                ? /^(unknown-category|id-reused-with-different-payload)$/
                : /^unknown-category$/,
            );
        });
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});
