import type { PollerContext } from './poller-context';
import type { LocalSchedule, TemplateFunction } from './template-model';

/** The event a scheduled invocation gets when its target sets no input. */
export function scheduledEvent(): Record<string, unknown> {
  return {
    source: 'aws.events',
    'detail-type': 'Scheduled Event',
    time: new Date().toISOString(),
  };
}

/**
 * Runs the template's rate schedules: each invokes its function every period (asynchronously: a
 * failure is logged). Cron expressions are not run locally; they are listed, to invoke by hand.
 */
export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly context: PollerContext,
    private readonly schedules: ReadonlyArray<{ schedule: LocalSchedule; fn: TemplateFunction }>,
  ) {}

  /** Starts a timer per rate schedule. */
  start(): void {
    for (const { schedule, fn } of this.schedules) {
      if (schedule.periodMs === undefined) {
        this.context.log(
          `  schedule ${schedule.expression} -> ${fn.entry}: not a rate, not run locally (invoke it by hand)`,
        );
        continue;
      }
      const timer = setInterval(() => {
        this.context
          .invoke(fn, schedule.input ?? scheduledEvent())
          .catch((error: unknown) =>
            this.context.log(`  schedule ${fn.entry} failed: ${(error as Error).message}`),
          );
      }, schedule.periodMs);
      timer.unref();
      this.timers.push(timer);
      this.context.log(`  schedule ${schedule.expression} -> ${fn.entry}`);
    }
  }

  /** Stops every timer. */
  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }
}
