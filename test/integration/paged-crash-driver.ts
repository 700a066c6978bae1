import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import type { FaultInjector } from '../support/fault-injector';
import {
  attempt,
  freshInstance,
  sqsEvent,
  type Attempt,
  type AttemptOutcome,
  type CrashFunction,
} from './crash-harness';
import type { OperationsHarness } from './operations-harness';

/*
 * The crash driver of the crash-point tests: an attempt killed at its Nth SDK call, then retried
 * as the queue, the stream or the schedule would; for a request that continues across invocations,
 * page by page, each continuation delivered twice. The property runs a scenario at every crash
 * point in turn and collects what is wrong after each.
 */

/** Time between two attempts of one event: past the in-flight window of a crashed attempt. */
export const RETRY_GAP_MS = 16 * 60_000;

/** Retries after a failed or crashed attempt before the event is given up. */
export const RETRIES = 3;

/** The clock the instances read: the present for a first attempt, later for each retry. */
export class RetryClock {
  private current = new Date();

  /** What an instance reads as its time. */
  readonly now = (): Date => this.current;

  /** Back to the present (a first attempt). */
  reset(): void {
    this.current = new Date();
  }

  /** The time of the `retry`th retry: {@link RETRY_GAP_MS} apart. */
  retry(retry: number): void {
    this.current = new Date(Date.now() + retry * RETRY_GAP_MS);
  }
}

/** How an event went: its first attempt, and whether the retries left it failed. */
export interface CrashedRun {
  readonly first: AttemptOutcome;
  readonly failed: boolean;
}

/**
 * Runs `event` on a fresh instance, dying at call `crashAt` when given, then retries it on a fresh
 * instance each time (later by {@link RETRY_GAP_MS} each) until it succeeds, {@link RETRIES} times
 * at most. The clock is back at the present afterwards.
 */
export async function crashThenRetry(
  injector: FaultInjector,
  clock: RetryClock,
  instance: () => Attempt,
  event: unknown,
  crashAt?: number,
): Promise<CrashedRun> {
  clock.reset();
  const first = await attempt(injector, instance(), event, crashAt);
  let failed = first.failed || first.crashed;
  for (let retry = 1; failed && retry <= RETRIES; retry += 1) {
    clock.retry(retry);
    failed = (await attempt(injector, instance(), event)).failed;
  }
  clock.reset();
  return { first, failed };
}

/** A queue a function continues on in a test: the test takes what was sent and delivers it. */
export class ContinuationInbox {
  private constructor(
    private readonly sqs: SQSClient,
    /** The queue's URL (the function's `CONTINUATION_QUEUE_URL`). */
    readonly queueUrl: string,
  ) {}

  /** Creates a queue of its own named after `name`. */
  static async create(sqs: SQSClient, name: string): Promise<ContinuationInbox> {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${Date.now()}` }));
    return new ContinuationInbox(sqs, created.QueueUrl!);
  }

  /** The messages sent so far, parsed, taken off the queue. */
  async taken(): Promise<unknown[]> {
    const bodies: unknown[] = [];
    for (;;) {
      const got = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10 }),
      );
      if (!got.Messages?.length) return bodies;
      for (const m of got.Messages) {
        bodies.push(JSON.parse(m.Body!));
        await this.sqs.send(
          new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle! }),
        );
      }
    }
  }
}

/** Where a paged run dies: at call `call` of the first attempt of page `page`. */
export interface PageCrash {
  readonly page: number;
  readonly call: number;
}

/** Pages a paged run goes through at most (a run that goes on past them is stopped). */
const MAX_PAGES = 20;

/**
 * Runs a request page by page on fresh instances of the function that continues on `inbox`: each
 * page's first delivery dies at `crash.call` when it is page `crash.page`, and is retried (see
 * {@link crashThenRetry}); every continuation sent is then delivered twice (a duplicate send, or a
 * redelivery). Returns the calls of each page's first attempt, and whether some page stayed failed.
 */
export class PagedCrashDriver {
  constructor(
    private readonly injector: FaultInjector,
    private readonly clock: RetryClock,
    private readonly inbox: ContinuationInbox,
    private readonly instance: () => Attempt,
  ) {}

  async run(
    tag: string,
    request: unknown,
    crash?: PageCrash,
  ): Promise<{ calls: number[]; failed: boolean }> {
    const calls: number[] = [];
    let pending: unknown[] = [request];
    let failed = false;
    for (let page = 1; pending.length > 0 && page < MAX_PAGES; page += 1) {
      const next: unknown[] = [];
      for (const [i, message] of pending.entries()) {
        const event = sqsEvent(`m-${tag}-${page}-${i}`, message);
        const crashAt = crash?.page === page && i === 0 ? crash.call : undefined;
        const run = await crashThenRetry(this.injector, this.clock, this.instance, event, crashAt);
        if (i === 0) calls.push(run.first.calls);
        failed ||= run.failed;
        next.push(...(await this.inbox.taken()));
      }
      const unique = [...new Map(next.map((n) => [JSON.stringify(n), n])).values()];
      pending = unique.flatMap((n) => [n, n]);
    }
    return { calls, failed };
  }
}

/**
 * A driver of `fn` on the harness's pipeline that takes `pageDocuments` documents an invocation
 * (its page budget) and continues on an inbox of its own.
 */
export async function pagedDriver(
  h: OperationsHarness,
  injector: FaultInjector,
  clock: RetryClock,
  fn: CrashFunction,
  pageDocuments: number,
): Promise<PagedCrashDriver> {
  const inbox = await ContinuationInbox.create(h.sqs, `paged-${fn}`);
  const overrides = {
    CONTINUATION_PAGE_DOCUMENTS: String(pageDocuments),
    CONTINUATION_QUEUE_URL: inbox.queueUrl,
  };
  return new PagedCrashDriver(injector, clock, inbox, () =>
    freshInstance(h.pipeline, fn, clock.now, overrides),
  );
}

/** Every crash point of a paged run whose pages' first attempts made `calls` SDK calls each. */
export function pageCrashPoints(calls: readonly number[]): PageCrash[] {
  return calls.flatMap((n, p) =>
    Array.from({ length: n }, (_, i) => ({ page: p + 1, call: i + 1 })),
  );
}

/**
 * Runs `check` at each crash point in turn (each one an example of the property; no shrinking) and
 * expects no problem anywhere; a problem reads `crash at <where>: <problem>`.
 */
export async function everyCrashPoint<P>(
  points: readonly P[],
  where: (point: P) => string,
  check: (point: P) => Promise<string[]>,
): Promise<void> {
  const failures: string[] = [];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...points), async (point) => {
      const problems = await check(point);
      failures.push(...problems.map((p) => `crash at ${where(point)}: ${p}`));
      return true;
    }),
    { examples: points.map((p) => [p]), numRuns: points.length, endOnFailure: true },
  );
  expect(failures).toEqual([]);
}

/** One run of a scenario: the SDK calls of its first attempt(s), and what is wrong afterwards. */
export interface ScenarioRun<Calls> {
  readonly calls: Calls;
  readonly problems: string[];
}

/**
 * Runs `scenario` once without a crash, which must leave nothing wrong, then crashing at each call
 * that clean run made (see {@link everyCrashPoint}).
 */
export async function atEveryCall(
  scenario: (crashAt?: number) => Promise<ScenarioRun<number>>,
): Promise<void> {
  const clean = await scenario();
  expect(clean.problems).toEqual([]);
  await everyCrashPoint(
    Array.from({ length: clean.calls }, (_, i) => i + 1),
    (n) => `call ${n}`,
    async (n) => (await scenario(n)).problems,
  );
}

/**
 * Runs a paged `scenario` once without a crash, which must leave nothing wrong, then crashing at
 * each call of each page that clean run made (see {@link pageCrashPoints}).
 */
export async function atEveryPageCall(
  scenario: (crash?: PageCrash) => Promise<ScenarioRun<readonly number[]>>,
): Promise<void> {
  const clean = await scenario();
  expect(clean.problems).toEqual([]);
  await everyCrashPoint(
    pageCrashPoints(clean.calls),
    (crash) => `page ${crash.page} call ${crash.call}`,
    async (crash) => (await scenario(crash)).problems,
  );
}
