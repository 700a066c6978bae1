import { KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { localClientOptions } from '../local/client-options';
import type { LocalPipeline } from '../local/environment';
import { KmsNoteSigner } from '../shared/aws/kms-note-signer';
import { Checkpointer, type CheckpointRun } from '../shared/processing-log/checkpointer';
import { ProcessingLogWriter } from '../shared/processing-log/writer';
import { SdkCallCounter } from '../test/support/call-counter';
import { inScope } from '../test/support/call-scopes';
import { log, round } from './settings';
import { forEachConcurrently } from './workload';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
/** Log sizes (records) checkpointed. */
export const CHECKPOINT_SIZES = env('BENCH_CHECKPOINT_SIZES', '10000,100000')
  .split(',')
  .map(Number);
/** Records per log object (one function invocation's batch). */
const RECORDS_PER_OBJECT = Number(env('BENCH_CHECKPOINT_RECORDS_PER_OBJECT', '25'));
/** Records added before the incremental checkpoint. */
const INCREMENT = 1000;
/** Writer chains the records are spread over (function instances). */
const WRITERS = 8;

/**
 * Checkpoint cost against the size of the log, on the checkpointer itself (its own run, no
 * waiting): for each size, a fresh log bucket filled with records written two hours ago, a first
 * checkpoint (no state yet: it lists and reads the whole log), then 1,000 more records written now
 * and the next checkpoint (lists the last minutes' keys, reads only the new objects). Calls counted
 * per operation; time is the run's own.
 */
export async function measureCheckpoints(pipeline: LocalPipeline) {
  const { endpoint, region, outputs } = pipeline.environment;
  const options = localClientOptions(endpoint, region);
  const counter = new SdkCallCounter();
  const s3 = new S3Client(options);
  const kms = new KMSClient(options);
  for (const c of [s3, kms]) c.middlewareStack.use(counter);
  const writerS3 = new S3Client(options);
  const results: Record<string, unknown>[] = [];
  for (const records of CHECKPOINT_SIZES) {
    const bucket = `ckpt-bench-${randomBytes(4).toString('hex')}`;
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: region as never },
        ObjectLockEnabledForBucket: true,
      }),
    );
    // The log as it stands after a while: its objects written 2 hours ago (outside the window of
    // keys each run looks at again), then new ones written now by new writer instances.
    const writersAt = (at: () => Date) =>
      Array.from(
        { length: WRITERS },
        (_, i) =>
          new ProcessingLogWriter({ s3: writerS3, bucket, actor: `bench-writer-${i}`, now: at }),
      );
    let writers = writersAt(() => new Date(Date.now() - 2 * 3_600_000));
    const fill = async (count: number, from: number) => {
      const objects = Math.ceil(count / RECORDS_PER_OBJECT);
      const perWriter = Array.from({ length: WRITERS }, (_, w) =>
        Array.from({ length: objects }, (_, o) => o).filter((o) => o % WRITERS === w),
      );
      await forEachConcurrently([...perWriter.entries()], WRITERS, async ([w, list]) => {
        for (const o of list) {
          const writer = writers[w]!;
          writer.begin();
          const n = Math.min(RECORDS_PER_OBJECT, count - o * RECORDS_PER_OBJECT);
          for (let r = 0; r < n; r += 1)
            writer.add({
              tenant: 'checkpoint-bench',
              operation: 'received',
              outcome: 'success',
              eventId: `e-${from + o * RECORDS_PER_OBJECT + r}`,
              eventSource: '/bench',
            });
          await writer.flush();
        }
      });
      return objects;
    };
    const t0 = performance.now();
    const objects = await fill(records, 0);
    const fillSeconds = (performance.now() - t0) / 1000;
    const checkpointer = new Checkpointer({
      s3,
      bucket,
      signer: new KmsNoteSigner(kms, outputs.CheckpointKeyId!),
    });
    const timed = async (scope: string) => {
      counter.reset();
      const started = performance.now();
      const run: CheckpointRun = await inScope(scope, () => checkpointer.run());
      const ms = performance.now() - started;
      const calls = Object.fromEntries(
        Object.entries(counter.snapshot()[scope] ?? {}).map(([k, c]) => [k, c.calls]),
      );
      const total = Object.values(calls).reduce((a, b) => a + b, 0);
      return { size: run.size, objects: run.objects, ms: round(ms, 1), calls, totalCalls: total };
    };
    const first = await timed('first');
    writers = writersAt(() => new Date());
    const newObjects = await fill(INCREMENT, records);
    const next = await timed('next');
    results.push({
      records,
      objects,
      recordsPerObject: RECORDS_PER_OBJECT,
      fillSeconds: round(fillSeconds, 1),
      first,
      increment: { records: INCREMENT, objects: newObjects },
      next,
    });
    log(
      `  checkpoint of ${records} records (${objects} objects): first ${first.ms} ms, ${first.totalCalls} calls ${JSON.stringify(first.calls)}; +${INCREMENT} records: ${next.ms} ms, ${next.totalCalls} calls ${JSON.stringify(next.calls)}`,
    );
  }
  for (const c of [s3, kms, writerS3]) c.destroy();
  return { sizes: results };
}
