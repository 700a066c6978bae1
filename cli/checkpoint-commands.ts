import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { KmsNoteSigner, kmsPublicKey } from '../shared/aws/kms-note-signer';
import { Checkpointer } from '../shared/processing-log/checkpointer';
import { ecdsaPublicKey } from '../shared/transparency/note-ecdsa';
import {
  CliError,
  type CliEnvironment,
  explainAwsError,
  kmsClientFor,
  requireName,
  s3ClientFor,
} from './environment';
import type { CliIo, Flags } from './flags';

/** The checkpoint signing key: `--checkpoint-key`, else the stack output. */
function checkpointKeyId(flags: Flags, env: CliEnvironment): string {
  return requireName(env, flags['checkpoint-key'], 'CheckpointKeyId', 'checkpoint-key');
}

/**
 * The public key checkpoints are checked with: the pinned PEM file of `--public-key` (what an
 * auditor without AWS access uses), else the signing key's public half from KMS `GetPublicKey`;
 * undefined when neither is available (checkpoints are then not checked, and verify says so).
 */
export async function checkpointPublicKey(
  flags: Flags,
  env: CliEnvironment,
): Promise<KeyObject | undefined> {
  if (flags['public-key']) {
    try {
      return ecdsaPublicKey(readFileSync(flags['public-key'], 'utf8'));
    } catch (error) {
      throw new CliError(`--public-key ${flags['public-key']}: ${(error as Error).message}`);
    }
  }
  const keyId = flags['checkpoint-key'] ?? env.outputs.CheckpointKeyId;
  if (!keyId) return undefined;
  const kms = kmsClientFor(env);
  try {
    return await kmsPublicKey(kms, keyId);
  } catch (error) {
    throw explainAwsError(error, env, `checkpoint key ${keyId}`);
  } finally {
    kms.destroy();
  }
}

/**
 * `log checkpoint`: takes a checkpoint now, as the scheduled function does. It signs with the
 * checkpoint key, whose key policy lets only the checkpointer's role sign: on a deployed stack,
 * invoke the function instead (the error says how).
 */
export async function takeCheckpoint(
  flags: Flags,
  env: CliEnvironment,
  io: CliIo,
): Promise<number> {
  const bucket = requireName(env, flags.bucket, 'LogBucketName', 'bucket');
  const keyId = checkpointKeyId(flags, env);
  const s3 = s3ClientFor(env);
  const kms = kmsClientFor(env);
  try {
    const run = await new Checkpointer({
      s3,
      bucket,
      signer: new KmsNoteSigner(kms, keyId),
    }).run();
    for (const s of run.skipped) io.err(`  left out ${s.key}: ${s.reason}`);
    io.out(
      run.written
        ? `checkpoint of ${run.size} records (${run.size - run.previousSize} new, ${run.objects} object${run.objects === 1 ? '' : 's'}): ${run.key}`
        : `nothing new since the checkpoint of ${run.size} records`,
    );
    return 0;
  } catch (error) {
    const e = error as { name?: string };
    if (!env.endpoint && (e.name === 'AccessDeniedException' || e.name === 'AccessDenied'))
      throw new CliError(
        `only the checkpointer function may sign: aws lambda invoke --function-name ${env.outputs.CheckpointerFunctionName ?? '<CheckpointerFunctionName>'} /dev/stdout`,
        { cause: error },
      );
    throw explainAwsError(error, env, `log bucket ${bucket} or checkpoint key ${keyId}`);
  } finally {
    s3.destroy();
    kms.destroy();
  }
}
