/**
 * One measurement of the upload handler's memory, in a process of its own so that the peaks of
 * different sizes never mix: loads the upload function as the local runtime does, warms it with a
 * small upload, then runs it once on the event given and prints its peak RSS (`maxRSS`) before and
 * after, as one JSON line. Started by upload-memory.ts; reads its input as JSON on stdin.
 */
import { randomUUID } from 'node:crypto';
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

/** What the child prints: peak RSS in MiB after the warm run and after the measured run. */
export interface MemoryRunOutput {
  readonly warmPeakMiB: number;
  readonly peakMiB: number;
  readonly handlerMs: number;
  readonly batchItemFailures: number;
}

/** An SQS event of one record carrying `event`, as the queue mapping delivers it. */
const sqsEvent = (event: Record<string, unknown>) => ({
  Records: [
    {
      messageId: randomUUID(),
      receiptHandle: 'r',
      body: JSON.stringify(event),
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-3:000000000000:bench',
      awsRegion: 'eu-west-3',
    },
  ],
});

const peakMiB = () => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

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
  const warmPeakMiB = peakMiB();
  const started = performance.now();
  const response = (await runtime.invoke('document-upload', sqsEvent(input.event))) as {
    batchItemFailures?: unknown[];
  };
  const output: MemoryRunOutput = {
    warmPeakMiB,
    peakMiB: peakMiB(),
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
