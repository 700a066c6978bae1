import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { localClientOptions } from '../local/client-options';
import type { LocalPipeline } from '../local/environment';
import type { MemoryRunInput, MemoryRunOutput } from './upload-memory-child';
import { log, ROOT } from './settings';

const MiB = 1024 * 1024;
/** Document sizes measured, in MiB (`BENCH_MEMORY_SIZES`). */
const SIZES = (process.env.BENCH_MEMORY_SIZES ?? '1,64,256').split(',').map(Number);
/** Most the peak RSS may grow from the smallest document to the largest, in MiB. */
export const MEMORY_GROWTH_TARGET_MIB = 64;

/** A document of `bytes` that does not compress (random), built once per size. */
function documentOf(bytes: number): Buffer {
  return randomBytes(bytes);
}

/**
 * Peak RSS of the upload handler against the document size: for each of `BENCH_MEMORY_SIZES`
 * (MiB), a child process loads the upload function as the local runtime does, runs it once on a
 * small upload (warm), collects garbage, then runs it once on a document of that size, sampling
 * its RSS every 2 ms (`process.memoryUsage.rss()`); it also reports the process's
 * `resourceUsage().maxRSS`. One process per size, so peaks never mix. The document is put into the
 * upload bucket by this process beforehand, so the child's memory is the handler's.
 */
export async function measureUploadMemory(pipeline: LocalPipeline) {
  const { endpoint, region, outputs } = pipeline.environment;
  const s3 = new S3Client(localClientOptions(endpoint, region));
  const environment = {
    ...pipeline.environment,
    resources: [...pipeline.environment.resources.entries()],
  };
  const tenant = 'memory-bench';
  const uploadEvent = async (bytes: number) => {
    const documentId = `mem-${randomUUID()}`;
    const key = `${tenant}/incoming/${documentId}.bin`;
    await s3.send(
      new PutObjectCommand({ Bucket: outputs.UploadBucketName, Key: key, Body: documentOf(bytes) }),
    );
    return {
      specversion: '1.0',
      id: randomUUID(),
      source: '/memory-bench',
      type: 'privacy.document.uploaded.v1',
      time: new Date().toISOString(),
      tenantid: tenant,
      data: {
        subjectId: `subject-${documentId}`,
        documentId,
        category: 'contract',
        upload: { bucket: outputs.UploadBucketName, key },
      },
    };
  };
  const runs: Array<MemoryRunOutput & { sizeMiB: number }> = [];
  for (const sizeMiB of SIZES) {
    const input: MemoryRunInput = {
      environment,
      warmEvent: await uploadEvent(1024),
      event: await uploadEvent(sizeMiB * MiB),
    };
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', path.join(ROOT, 'bench', 'upload-memory-child.ts')],
      { cwd: ROOT, input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 16 * MiB },
    );
    if (child.status !== 0)
      throw new Error(`upload memory run of ${sizeMiB} MiB failed: ${child.stderr.slice(-2000)}`);
    const output = JSON.parse(child.stdout.trim().split('\n').pop()!) as MemoryRunOutput;
    if (output.batchItemFailures > 0)
      throw new Error(`upload memory run of ${sizeMiB} MiB: the upload failed`);
    runs.push({ sizeMiB, ...output });
    log(
      `  upload of ${sizeMiB} MiB: peak RSS ${output.peakMiB} MiB (before ${output.beforeMiB} MiB, process maxRSS ${output.maxRssMiB} MiB), handler ${output.handlerMs} ms`,
    );
  }
  const growthMiB = Math.round((runs[runs.length - 1].peakMiB - runs[0].peakMiB) * 10) / 10;
  log(
    `  peak RSS growth ${runs[0].sizeMiB} → ${runs[runs.length - 1].sizeMiB} MiB: ${growthMiB} MiB (target < ${MEMORY_GROWTH_TARGET_MIB})`,
  );
  s3.destroy();
  return {
    method:
      'one child process per size: the upload function loaded as the local runtime does, warmed on a 1 KiB upload, gc, then run once; peak = highest process.memoryUsage.rss() sampled every 2 ms during the run',
    runs,
    growthMiB,
    targetGrowthMiB: MEMORY_GROWTH_TARGET_MIB,
    pass: growthMiB < MEMORY_GROWTH_TARGET_MIB,
  };
}
