import type { DeserializeHandlerOptions, HandlerExecutionContext, Pluggable } from '@smithy/types';
import { callInfo, currentScope, type CallInfo } from './call-scopes';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** A pause armed with {@link CallGate.pauseAt}. */
export interface Pause {
  /** Settles when the paused call is reached (it has not reached the endpoint). */
  readonly reached: Promise<void>;
  /** Lets the paused call (and everything after it) go on. */
  release(): void;
}

/**
 * Holds an AWS SDK call of a chosen scope back until the test releases it, in the deserialize step
 * right after the SDK's deserializer (where the fault injector sits): the calls before it took
 * effect, the held one has not. Lets a test interleave two functions' steps call by call.
 */
export class CallGate implements Pluggable<any, any> {
  private readonly pauses: Array<{
    match: (call: CallInfo) => boolean;
    nth: number;
    seen: number;
    reached: () => void;
    released: Promise<void>;
  }> = [];

  /** Pauses the `nth` call matching `match` (counted from now). */
  pauseAt(match: (call: CallInfo) => boolean, nth: number): Pause {
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((r) => (reached = r));
    const released = new Promise<void>((r) => (release = r));
    this.pauses.push({ match, nth, seen: 0, reached, released });
    return { reached: reachedPromise, release };
  }

  /** Adds the gate to a client's stack. */
  applyToStack(stack: any): void {
    stack.addRelativeTo(
      (next: any, context: HandlerExecutionContext) => async (args: any) => {
        if (currentScope()) {
          const info = callInfo(context, args.input);
          for (const [i, pause] of this.pauses.entries()) {
            if (!pause.match(info)) continue;
            pause.seen += 1;
            if (pause.seen < pause.nth) continue;
            this.pauses.splice(i, 1);
            pause.reached();
            await pause.released;
            break;
          }
        }
        return next(args);
      },
      {
        relation: 'after',
        toMiddleware: 'deserializerMiddleware',
        name: 'privacyOpsCallGate',
        override: true,
      } as DeserializeHandlerOptions & { relation: 'after'; toMiddleware: string },
    );
  }
}
