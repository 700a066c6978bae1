import { sqsRecord } from '../support/sqs-records';
import type { Pluggable } from '@smithy/types';
import type { SQSBatchResponse } from 'aws-lambda';
import { performance } from 'node:perf_hooks';
import { registerClientPlugin } from '../../shared/aws/client-config';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

/** When a function read one upload object: its key, and the start and end of the call. */
interface ReadSpan {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyPluggable = Pluggable<any, any>;

/** Records the span of every GetObject on `bucket()` made by any client built from now on. */
function uploadReads(bucket: () => string): { spans: ReadSpan[]; plugin: AnyPluggable } {
  const spans: ReadSpan[] = [];
  const plugin: AnyPluggable = {
    applyToStack: (stack) =>
      stack.add(
        (next, context) => async (args) => {
          const input = args.input as { Bucket?: string; Key?: string };
          if (context.commandName !== 'GetObjectCommand' || input.Bucket !== bucket())
            return next(args);
          const start = performance.now();
          try {
            return await next(args);
          } finally {
            spans.push({ key: String(input.Key), start, end: performance.now() });
          }
        },
        { step: 'initialize', name: 'uploadReadSpans' },
      ),
  };
  return { spans, plugin };
}

describe('a batch of uploads: distinct subjects at once, one subject in queue order', () => {
  let h: OperationsHarness;
  let reads: ReturnType<typeof uploadReads>;
  let unregister: () => void;

  beforeAll(async () => {
    h = await startOperationsHarness();
    reads = uploadReads(() => h.outputs.UploadBucketName);
    // Before the function's first invocation: its clients are built when its instance loads.
    unregister = registerClientPlugin(reads.plugin);
  });
  afterAll(async () => {
    unregister?.();
    await h?.stop();
  });

  it('reads the uploads of distinct subjects concurrently and those of one subject one after the other, in queue order', async () => {
    // Prepare: subject A three times (a1, a2, a3 in that order), five other subjects once
    const order: Array<[string, string]> = [
      ['batch-A', 'a1'],
      ['batch-B', 'b1'],
      ['batch-A', 'a2'],
      ['batch-C', 'c1'],
      ['batch-D', 'd1'],
      ['batch-A', 'a3'],
      ['batch-E', 'e1'],
      ['batch-F', 'f1'],
    ];
    const events = [];
    for (const [subject, doc] of order)
      events.push(await h.upload(subject, `order-${doc}`, 'accounting-document', `body ${doc}`));
    // Act
    const response = (await h.pipeline.runtime.invoke('document-upload', {
      Records: events.map((e) => sqsRecord(e)),
    })) as SQSBatchResponse;
    // Assess: every record applied
    expect(response.batchItemFailures).toEqual([]);
    expect(Object.keys(await h.items('batch-A')).sort()).toEqual([
      'order-a1',
      'order-a2',
      'order-a3',
    ]);
    const span = (doc: string) => reads.spans.find((s) => s.key.endsWith(`/order-${doc}.pdf`))!;
    // Assess: one subject's records one after the other, in queue order
    expect(span('a1').end).toBeLessThanOrEqual(span('a2').start);
    expect(span('a2').end).toBeLessThanOrEqual(span('a3').start);
    // Assess: distinct subjects overlap (at least one pair of reads in flight together)
    const others = ['b1', 'c1', 'd1', 'e1', 'f1'].map(span);
    const overlapping = others.filter((s) =>
      [span('a1'), ...others].some((t) => t !== s && t.start < s.end && s.start < t.end),
    );
    expect(overlapping.length).toBeGreaterThan(0);
  });
});
