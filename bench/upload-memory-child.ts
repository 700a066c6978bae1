/**
 * One measurement of the upload handler's memory, in a process of its own so that the peaks of
 * different sizes never mix: loads the upload function as the local runtime does, warms it with a
 * small upload, collects garbage, then runs it once on the event given, sampling the RSS every
 * 2 ms, and prints the RSS before, the highest sample and the process's `maxRSS`, as one JSON
 * line. Started by upload-memory.ts (with `--expose-gc`); reads its input as JSON on stdin.
 */
import { sqsEvent } from '../test/support/sqs-records';
import { LocalRuntime } from '../local/runtime';
import type { ProvisionedEnvironment } from '../local/provision';

/** What the parent hands over: the provisioned environment and the two events to run. */
export interface MemoryRunInput {
  readonly environment: Omit<ProvisionedEnvironment, 'resources'> & {
    readonly resources: Array<[string, unknown]>;
  };
  readonly warmEvent: Record<string, unknown>;
  readonly event: Record<string, unknown>;
}

/** What the child prints, in MiB: RSS before the measured run, its highest sample, `maxRSS`. */
export interface MemoryRunOutput {
  readonly beforeMiB: number;
  readonly peakMiB: number;
  readonly maxRssMiB: number;
  readonly handlerMs: number;
  readonly batchItemFailures: number;
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as MemoryRunInput;
  const environment = {
    ...input.environment,
    resources: new Map(input.environment.resources),
  } as unknown as ProvisionedEnvironment;
  const runtime = new LocalRuntime(environment, { log: () => undefined });
  await runtime.invoke('document-upload', sqsEvent(input.warmEvent));
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 2);
  const started = performance.now();
  const response = (await runtime.invoke('document-upload', sqsEvent(input.event))) as {
    batchItemFailures?: unknown[];
  };
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  const output: MemoryRunOutput = {
    beforeMiB: mib(before),
    peakMiB: mib(peak),
    maxRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    handlerMs: Math.round(performance.now() - started),
    batchItemFailures: response?.batchItemFailures?.length ?? 0,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
