import { registerClientPlugin } from '../../shared/aws/client-config';
import { FaultInjector } from '../support/fault-injector';
import { LogTail } from './crash-harness';
import { erasureProblems, prepareErasureSubject } from './erasure-scenario';
import {
  atEveryPageCall,
  pagedDriver,
  RetryClock,
  type PageCrash,
  type PagedCrashDriver,
} from './paged-crash-driver';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';
import { storedWithoutFaults, type StoreDocument } from './stored-documents';

jest.setTimeout(1_800_000);

/** Documents one erasure invocation takes here (the page budget, set as configuration). */
const PAGE = 2;

/**
 * Crash points of a paged erasure: a subject with more documents than one invocation takes is
 * erased in pages, each sent on as a continuation message. Its invocations are killed at every SDK
 * call of every page in turn (a crash between pages is a crash at the send of the next page, or
 * at the write of the page's log object), each retried without faults as the queue would, and
 * every continuation is delivered twice. Whatever the crash point, every effect has exactly one
 * record, the request is completed once, and nothing that should be gone survives.
 */
describe('paged erasure: every effect logged once, whatever call of whatever page dies', () => {
  const injector = new FaultInjector();
  let unregister: () => void;
  let h: OperationsHarness;
  let tail: LogTail;
  const clock = new RetryClock();
  /** The erasure run page by page on its own queue. */
  let driver: PagedCrashDriver;
  /** Stores a document through the upload function (no fault); returns its item. */
  let stored: StoreDocument;
  let runs = 0;

  beforeAll(async () => {
    unregister = registerClientPlugin(injector);
    h = await startOperationsHarness();
    tail = new LogTail(h.s3, h.outputs.LogBucketName);
    driver = await pagedDriver(h, injector, clock, 'erasure-request', PAGE);
    stored = storedWithoutFaults(h, injector, clock.now);
  });
  afterAll(async () => {
    await h?.stop();
    unregister?.();
  });

  /** One erasure of a fresh subject, crashing where told; what is wrong afterwards. */
  async function scenario(crash?: PageCrash) {
    runs += 1;
    // Prepare: four case documents (three pages of two with the invoice), an invoice kept under a
    // legal duty, an access export, an upload a crashed upload left, a vault object without item
    const erased = await prepareErasureSubject(h, stored, `paged-erase-${runs}`, 4);
    await tail.next();
    // Act
    const run = await driver.run(erased.who, erased.event, crash);
    // Assess
    const problems = [
      ...(run.failed ? ['the retries did not succeed'] : []),
      ...(run.calls.length >= 3 ? [] : [`${run.calls.length} page(s), not 3 or more`]),
      ...(await erasureProblems(h, erased, await tail.next(), 'erased:4;restricted:1')),
    ];
    return { calls: run.calls, problems };
  }

  it('erases across several invocations of the page budget, one record per effect, completed once, at every crash point of every page', async () => {
    await atEveryPageCall(scenario);
  });
});
