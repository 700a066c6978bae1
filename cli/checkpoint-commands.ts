import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { KmsNoteSigner, kmsPublicKey } from '../shared/aws/kms-note-signer';
import { Checkpointer } from '../shared/processing-log/checkpointer';
import { ProcessingLogProver } from '../shared/processing-log/log-prover';
import { checkProofBundle } from '../shared/transparency/proof-bundle';
import { ecdsaPublicKey } from '../shared/transparency/note-ecdsa';
import { ALLOWED_REGIONS, partnerRegion, type AllowedRegion } from '../infra/config';
import type { S3Client } from '@aws-sdk/client-s3';
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
 * The anchor of the checkpoints (`--anchor-bucket`, else the stack output) and a client for it:
 * in the other region of the EU pair on a deployed stack, the same endpoint locally.
 */
export function checkpointAnchor(
  flags: Flags,
  env: CliEnvironment,
): { s3: S3Client; bucket: string } | undefined {
  const bucket = flags['anchor-bucket'] ?? env.outputs.CheckpointAnchorBucketName;
  if (!bucket) return undefined;
  const region = env.region as AllowedRegion | undefined;
  const anchorRegion =
    !env.endpoint && region && ALLOWED_REGIONS.includes(region) ? partnerRegion(region) : region;
  return { s3: s3ClientFor({ ...env, region: anchorRegion }), bucket };
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

/**
 * `log prove --subject <pseudonym> | --request <request id> [--out <file>]`: writes a proof
 * bundle of the records of a subject or a request included in the latest checkpoint.
 */
export async function proveRecords(flags: Flags, env: CliEnvironment, io: CliIo): Promise<number> {
  if (Boolean(flags.subject) === Boolean(flags.request))
    throw new CliError('log prove needs one of --subject <pseudonym> or --request <request id>');
  const bucket = requireName(env, flags.bucket, 'LogBucketName', 'bucket');
  const publicKey = await checkpointPublicKey(flags, env);
  if (!publicKey) throw new CliError('log prove needs --public-key <pem> or --checkpoint-key');
  const selection = flags.subject ? { subject: flags.subject } : { requestId: flags.request! };
  const s3 = s3ClientFor(env);
  try {
    const bundle = await new ProcessingLogProver(s3, bucket).prove(selection, {
      publicKey,
      origin: flags.origin,
    });
    const file =
      flags.out ??
      `proof-${(flags.subject ?? flags.request!).replace(/[^\w.-]/g, '_').slice(0, 16)}.json`;
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, JSON.stringify(bundle, null, 2) + '\n');
    io.err(`${bundle.records.length} record(s) proven against the checkpoint in ${file}`);
    io.out(file);
    return 0;
  } catch (error) {
    if (error instanceof CliError || (error as { $metadata?: unknown }).$metadata !== undefined)
      throw explainAwsError(error, env, `log bucket ${bucket}`);
    throw new CliError(`cannot prove: ${(error as Error).message}`, { cause: error });
  } finally {
    s3.destroy();
  }
}

/**
 * `log check-proof <file> --public-key <pem>`: checks a proof bundle offline, with no AWS access:
 * the checkpoint's signature by the pinned key, then each record's inclusion proof.
 */
export function checkProof(positionals: string[], flags: Flags, io: CliIo): number {
  const file = positionals[0];
  if (!file || !flags['public-key'])
    throw new CliError('usage: privacy-ops log check-proof <file> --public-key <pem file>');
  let bundle: unknown;
  let pem: string;
  try {
    bundle = JSON.parse(readFileSync(file, 'utf8'));
    pem = readFileSync(flags['public-key'], 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file} or the key: ${(error as Error).message}`);
  }
  const report = checkProofBundle(bundle, pem, flags.origin ? { origin: flags.origin } : {});
  if (report.ok) {
    const c = report.checkpoint!;
    io.out(
      `proof verified: ${report.proven.length} record(s) included in the checkpoint of ${c.size} records (${c.origin}, ${c.extensions.join(' ')})`,
    );
    return 0;
  }
  io.out(`proof REJECTED: ${report.problems.length} problem(s)`);
  for (const p of report.problems) io.out(`  - ${p.item}: ${p.detail}`);
  return 1;
}
