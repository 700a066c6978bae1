import type { LambdaHandler } from './function-bundle';

/** One instance of a function: its module loaded once, running one invocation at a time. */
export interface FunctionInstance {
  /** 0 for the first instance of the function, 1 for the second… */
  readonly index: number;
  readonly handler: LambdaHandler;
}

/**
 * The instances of one function, as Lambda keeps them: each runs one invocation at a time; an
 * invocation takes an idle instance, or loads a new one while fewer than `size` exist, or waits
 * (first come, first served) for one to be released. Instances are loaded on first need.
 */
export class InstancePool {
  private readonly idle: FunctionInstance[] = [];
  /** Waiting invocations; given an instance, or `undefined` to load one after a failed load. */
  private readonly waiting: Array<(instance: FunctionInstance | undefined) => void> = [];
  private loaded = 0;

  constructor(
    /** The most instances that may exist at once. */
    readonly size: number,
    private readonly load: (index: number) => FunctionInstance | Promise<FunctionInstance>,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`An instance pool needs a whole number of instances ≥ 1, got ${size}`);
  }

  /** How many instances have been loaded so far. */
  get instances(): number {
    return this.loaded;
  }

  /** An instance for one invocation; give it back with {@link release}. */
  async acquire(): Promise<FunctionInstance> {
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.loaded < this.size) return this.loadOne();
    const handed = await new Promise<FunctionInstance | undefined>((resolve) =>
      this.waiting.push(resolve),
    );
    return handed ?? this.acquire();
  }

  /** Gives an instance back: to the longest-waiting invocation, or to the idle ones. */
  release(instance: FunctionInstance): void {
    const next = this.waiting.shift();
    if (next) next(instance);
    else this.idle.push(instance);
  }

  private async loadOne(): Promise<FunctionInstance> {
    const index = this.loaded;
    this.loaded += 1;
    try {
      return await this.load(index);
    } catch (error) {
      this.loaded -= 1;
      this.waiting.shift()?.(undefined);
      throw error;
    }
  }
}
