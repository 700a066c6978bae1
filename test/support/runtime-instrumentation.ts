import { performance } from 'node:perf_hooks';
import type { LocalRuntime } from '../../local/runtime';
import {
  attributePollerCalls,
  inCallScope,
  InjectedCrashError,
  type CallScope,
} from './call-scopes';

/** What {@link instrumentRuntime} measures, and how to undo it. */
export interface RuntimeInstrumentation {
  /** Wall time of every handler run, by function key, in milliseconds. */
  readonly durationsMs: Record<string, number[]>;
  /** Runs longer than their function's timeout (Lambda would have killed them). */
  readonly overruns: Record<string, number>;
  /** Removes the hook. */
  restore(): void;
}

/**
 * Hooks every invocation of the runtime so that the handler's run is a call scope named after
 * its function (and is timed: its own run, not its wait for a free instance), and maps the
 * runtime's queues and streams to their functions so poller calls are attributed too. An
 * invocation in which an injected crash fired throws, whatever the handler returned: the local
 * runtime then fails the whole batch, as after a real crash.
 */
export function instrumentRuntime(runtime: LocalRuntime): RuntimeInstrumentation {
  for (const m of runtime.mappings) {
    const fn = runtime.functions.get(m.functionLogicalId);
    if (fn) attributePollerCalls(m.source, fn.key);
  }
  const durationsMs: Record<string, number[]> = {};
  const overruns: Record<string, number> = {};
  const restore = runtime.onInvoke(({ fn, event }, run) => {
    const scope: CallScope = { name: fn.key, calls: new Map() };
    return inCallScope(scope, async () => {
      const started = performance.now();
      let result: unknown;
      try {
        result = await run(event);
      } catch (error) {
        if (scope.crashed) throw new InjectedCrashError('injected crash: invocation died');
        throw error;
      } finally {
        const ms = performance.now() - started;
        (durationsMs[fn.key] ??= []).push(ms);
        if (ms > fn.timeoutSeconds * 1000) overruns[fn.key] = (overruns[fn.key] ?? 0) + 1;
      }
      if (scope.crashed) throw new InjectedCrashError('injected crash: invocation died');
      return result;
    });
  });
  return { durationsMs, overruns, restore };
}
