import fc from 'fast-check';
import { registerClientPlugin } from '../../shared/aws/client-config';
import { RECONCILIATION_PROGRESS } from '../../shared/operations/vault-reconciliation';
import { isLive, vaultRefOf } from '../../shared/retention/retention-items';
import { CallGate } from '../support/call-gate';
import { FaultInjector } from '../support/fault-injector';
import { attempt, freshInstance, sqsEvent, type Attempt } from './crash-harness';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

jest.setTimeout(900_000);

/** What shreds the subject key the upload needs: an erasure, or the sweep expiring the last document. */
type Shredder = 'erasure' | 'sweep';

/**
 * An upload racing an erasure, or an expiry, that shreds the same subject key: the upload (a warm
 * instance, which stored the subject's first document) and the shredder are interleaved call by
 * call: one is held before its Nth SDK call while the other runs to its end,
 * for every N of either. Whatever the interleaving, every item marked live decrypts: no document
 * is left active over a destroyed key or a deleted object.
 */
describe('no write under a destroyed key: upload racing a shred, every interleaving', () => {
  const injector = new FaultInjector();
  const gate = new CallGate();
  let unregister: Array<() => void>;
  let h: OperationsHarness;
  let clock = new Date();
  let runs = 0;

  beforeAll(async () => {
    unregister = [registerClientPlugin(injector), registerClientPlugin(gate)];
    h = await startOperationsHarness();
    // The vault's reconciliation (the sweep function's second part) finished a pass just now: the
    // sweeps here, within its interval, expire documents and do not start another.
    await h.ctx.store.putProgress(RECONCILIATION_PROGRESS, {
      completedAt: new Date().toISOString(),
    });
  });
  afterAll(async () => {
    await h?.stop();
    for (const undo of unregister ?? []) undo();
  });

  /** Runs `run` until it succeeds (each retry 16 minutes later, a fresh instance). */
  async function settle(run: () => Promise<{ failed: boolean }>, first: { failed: boolean }) {
    let failed = first.failed;
    try {
      for (let retry = 1; failed && retry <= 4; retry += 1) {
        clock = new Date(Date.now() + retry * 16 * 60_000);
        failed = (await run()).failed;
      }
    } finally {
      clock = new Date();
    }
    return failed;
  }

  /**
   * One interleaving: `held` is paused before its `at`th call while the other runs to its end,
   * then released; both are retried until they succeed. Returns what is wrong afterwards.
   */
  async function interleaving(shredder: Shredder, held: 'upload' | Shredder, at?: number) {
    runs += 1;
    const who = `race-${runs}`;
    clock = new Date();
    const upload: Attempt = freshInstance(h.pipeline, 'document-upload', () => clock);
    // The sweep expires the first document (long due), the last of its class: its key goes.
    const category = shredder === 'erasure' ? 'case-document' : 'training-attendance';
    const first = await h.upload(who, `${who}-d1`, category, 'first', {
      documentDate: '2010-01-10',
    });
    if ((await attempt(injector, upload, sqsEvent(`${who}-1`, first))).failed)
      throw new Error('setup upload failed');
    // The shredder: the erasure function on the subject's request, or the sweep function's run
    const shredEvent =
      shredder === 'erasure'
        ? sqsEvent(
            `${who}-e`,
            h.event('privacy.erasure.requested.v1', {
              subjectId: who,
              requestId: `req-${who}`,
              receivedAt: new Date().toISOString(),
            }),
          )
        : undefined;
    const shredderFunction = shredder === 'erasure' ? 'erasure-request' : 'sweep';
    // Sent after the erasure: not covered by it, stored (not due for ten years: the sweep keeps it).
    const second = await h.upload(who, `${who}-d2`, category, 'second', {
      time: new Date(Date.now() + 2_000).toISOString(),
    });
    const uploadEvent = sqsEvent(`${who}-2`, second);
    // The instances' clock from here: after the erasure was sent (a clock is never behind the
    // events it receives; the erasure's tombstone is the earlier of its time and now).
    clock = new Date();
    const uploadScope = `race-upload-${runs}`;
    const shredScope = `race-${shredder}-${runs}`;
    const uploading = () => attempt(injector, upload, uploadEvent, undefined, uploadScope);
    const shredding = (scope?: string) =>
      attempt(
        injector,
        freshInstance(h.pipeline, shredderFunction, () => clock),
        shredEvent,
        undefined,
        scope,
      );
    let calls = 0;
    if (at === undefined) {
      // A clean run of the held one alone: how many calls it makes.
      const alone = held === 'upload' ? await uploading() : await shredding(shredScope);
      calls = alone.calls;
      await settle(
        held === 'upload' ? shredding : uploading,
        await (held === 'upload' ? shredding() : uploading()),
      );
    } else {
      const pause = gate.pauseAt(
        (c) => c.scope === (held === 'upload' ? uploadScope : shredScope),
        at,
      );
      const heldRun = held === 'upload' ? uploading() : shredding(shredScope);
      const reached = await Promise.race([
        pause.reached.then(() => true),
        heldRun.then(() => false),
      ]);
      const other = held === 'upload' ? await shredding() : await uploading();
      pause.release();
      const heldOutcome = await heldRun;
      if (!reached) throw new Error(`the ${held} made fewer than ${at} calls`);
      await settle(held === 'upload' ? uploading : () => shredding(), heldOutcome);
      await settle(held === 'upload' ? () => shredding() : uploading, other);
    }
    // Assess: the shredder took the first document, the second is stored, every live item decrypts
    const problems: string[] = [];
    const items = await h.items(who);
    const live = (id: string) => items[id] !== undefined && isLive(items[id].state);
    if (live(`${who}-d1`)) problems.push(`the ${shredder} left d1`);
    // The sweep takes only what is due; the erasure only what was sent before it, whichever of
    // the two is stored first.
    if (!live(`${who}-d2`)) problems.push(`d2 is ${items[`${who}-d2`]?.state ?? 'not stored'}`);
    for (const item of Object.values(items)) {
      if (!isLive(item.state)) continue;
      const read = await h.ctx.vault.get(vaultRefOf(item)).then(
        () => 'readable',
        (error: unknown) => (error instanceof Error ? error.name : 'unreadable'),
      );
      if (read !== 'readable')
        problems.push(`${item.documentId} is ${item.state} over an unreadable document (${read})`);
    }
    return { calls, problems };
  }

  async function everyInterleaving(shredder: Shredder, held: 'upload' | Shredder) {
    const { calls } = await interleaving(shredder, held);
    const points = Array.from({ length: calls }, (_, i) => i + 1);
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...points), async (n) => {
        const { problems } = await interleaving(shredder, held, n);
        failures.push(...problems.map((p) => `${held} held before call ${n}: ${p}`));
        return true;
      }),
      { examples: points.map((n) => [n]), numRuns: points.length, endOnFailure: true },
    );
    expect(failures).toEqual([]);
  }

  it('upload held at each of its calls while the erasure runs', async () => {
    await everyInterleaving('erasure', 'upload');
  });

  it('erasure held at each of its calls while the upload runs', async () => {
    await everyInterleaving('erasure', 'erasure');
  });

  it('upload held at each of its calls while the sweep expires the last document of its class', async () => {
    await everyInterleaving('sweep', 'upload');
  });

  it('sweep held at each of its calls while the upload runs', async () => {
    await everyInterleaving('sweep', 'sweep');
  });
});
