import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  ListObjectsV2Command,
  PutObjectLockConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { localClientOptions } from '../../local/client-options';
import type { LocalPipeline } from '../../local/environment';
import { scheduledEvent } from '../../local/scheduler';
import {
  CHECKPOINT_PREFIX,
  CheckpointEntry,
  checkpointOrigin,
} from '../../shared/processing-log/checkpoint-entry';
import type { CheckpointRun } from '../../shared/processing-log/checkpointer';
import { ProcessingLogWriter } from '../../shared/processing-log/writer';
import {
  hashFromBase64,
  newCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  parseSignedNote,
  signCheckpoint,
  verifyCheckpointSuccession,
} from '../../shared/transparency';
import { startTestPipeline } from '../helpers/local-pipeline';
import { cli } from './log-audit-fixture';

const TENANT = 'checkpoint-test';
/** The pseudonym of the subject of the `erasure-request` chain's records. */
const SUBJECT = createHash('sha256').update('checkpoint-test-subject').digest('hex');

const entry = (n: number, subject: string | null = null) => ({
  tenant: TENANT,
  subject,
  requestId: subject ? 'R-checkpoint' : null,
  operation: 'received' as const,
  outcome: 'success' as const,
  eventId: `evt-${n}-${randomBytes(4).toString('hex')}`,
  eventSource: '/checkpoint-test',
});

interface VerifyJson {
  ok: boolean;
  problems: Array<{ kind: string; key?: string; detail: string }>;
}

describe('signed checkpoints of the processing log', () => {
  let pipeline: LocalPipeline;
  let s3: S3Client;
  let kms: KMSClient;
  let bucket: string;
  let work: string;
  let flags: string[];
  let pemFile: string;
  /** Two writers' chains: keys in write order. */
  const chains: Record<string, string[]> = {};

  /** Writes `objects` objects of 2 records each with one writer; returns their keys. */
  async function writeChain(actor: string, objects: number, into = bucket): Promise<string[]> {
    const writer = new ProcessingLogWriter({ s3, bucket: into, actor });
    const subject = actor === 'erasure-request' ? SUBJECT : null;
    const keys: string[] = [];
    for (let i = 0; i < objects; i += 1) {
      keys.push(writer.begin());
      writer.add(entry(2 * i, subject));
      writer.add(entry(2 * i + 1));
      await writer.flush();
    }
    return keys;
  }

  const checkpoint = async () =>
    (await pipeline.runtime.invoke('checkpointer', scheduledEvent())) as CheckpointRun;

  const entries = async (from = bucket): Promise<CheckpointEntry[]> => {
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: from, Prefix: CHECKPOINT_PREFIX }),
    );
    const all: CheckpointEntry[] = [];
    for (const o of listed.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: from, Key: o.Key }));
      all.push(CheckpointEntry.parse(JSON.parse(await got.Body!.transformToString())));
    }
    return all.reverse(); // oldest first
  };

  /**
   * A copy of the log in a new Object Lock bucket, without the keys `drop`: what someone who
   * controls the account could hand over as the log (every object as written, metadata kept).
   */
  async function copyLog(drop: readonly string[] = []): Promise<string> {
    const copy = `cp-${randomBytes(5).toString('hex')}`;
    await s3.send(
      new CreateBucketCommand({
        Bucket: copy,
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-3' },
        ObjectLockEnabledForBucket: true,
      }),
    );
    // The copy is locked like the log, so only what the test dropped differs.
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: copy,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
        },
      }),
    );
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const o of listed.Contents ?? []) {
      if (drop.includes(o.Key!)) continue;
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
      await s3.send(
        new PutObjectCommand({
          Bucket: copy,
          Key: o.Key,
          Body: Buffer.from(await got.Body!.transformToByteArray()),
          Metadata: got.Metadata,
          ContentEncoding: got.ContentEncoding,
        }),
      );
    }
    return copy;
  }

  const verify = async (of: string, extra: string[] = []) => {
    const result = await cli([
      'log',
      'verify',
      '--format',
      'json',
      '--bucket',
      of,
      '--public-key',
      pemFile,
      '--origin',
      checkpointOrigin(bucket),
      ...flags,
      ...extra,
    ]);
    return { code: result.code, report: JSON.parse(result.out || '{}') as VerifyJson, result };
  };

  beforeAll(async () => {
    // Prepare: a pipeline whose schedules do not run (checkpoints are taken by the test), and
    // two writer chains of three objects
    pipeline = await startTestPipeline({ startRuntime: false });
    const options = localClientOptions(pipeline.endpoint, 'eu-west-3');
    s3 = new S3Client(options);
    kms = new KMSClient(options);
    bucket = pipeline.environment.outputs.LogBucketName!;
    work = mkdtempSync(path.join(tmpdir(), 'log-checkpoints-'));
    const outputsFile = path.join(work, 'outputs.json');
    writeFileSync(
      outputsFile,
      JSON.stringify({
        endpoint: pipeline.endpoint,
        region: 'eu-west-3',
        ...pipeline.environment.outputs,
      }),
    );
    flags = ['--outputs', outputsFile];
    const { PublicKey } = await kms.send(
      new GetPublicKeyCommand({ KeyId: pipeline.environment.outputs.CheckpointKeyId }),
    );
    pemFile = path.join(work, 'checkpoint-key.pem');
    writeFileSync(
      pemFile,
      createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' })
        .export({ format: 'pem', type: 'spki' })
        .toString(),
    );
    chains.erasure = await writeChain('erasure-request', 3);
    chains.expiry = await writeChain('retention-expiry', 3);
  }, 180_000);

  afterAll(async () => {
    await pipeline?.stop();
    s3?.destroy();
    kms?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('signs a checkpoint of every record, then one that adds only the new objects and is consistent with it', async () => {
    // Act
    const first = await checkpoint();
    const idle = await checkpoint();
    const added = await writeChain('legal-hold', 1);
    const second = await cli(['log', 'checkpoint', ...flags]);
    // Assess
    expect(first).toMatchObject({ written: true, previousSize: 0, size: 12, objects: 6 });
    expect(idle).toMatchObject({ written: false, size: 12, objects: 0 });
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/checkpoint of 14 records \(2 new, 1 object\)/);
    const [a, b] = await entries();
    const pem = createPublicKey(readFileSync(pemFile));
    const origin = checkpointOrigin(bucket);
    const one = openCheckpoint(a!.checkpoint, { publicKey: pem, origin });
    const two = openCheckpoint(b!.checkpoint, { publicKey: pem, origin });
    expect([one.size, two.size]).toEqual([12, 14]);
    expect(b!.objects.map((o) => o.key)).toEqual(added);
    expect(() =>
      verifyCheckpointSuccession(
        one,
        two,
        b!.consistencyProof.map((h) => hashFromBase64(h, 'proof')),
      ),
    ).not.toThrow();
    chains.hold = added;
  });

  it('verifies an untouched log against its checkpoints (pinned PEM, or the key from KMS)', async () => {
    // Act
    const pinned = await verify(bucket);
    const fromKms = await cli(['log', 'verify', '--format', 'json', ...flags]);
    // Assess
    expect(pinned.report.problems).toEqual([]);
    expect(pinned.code).toBe(0);
    expect(fromKms.code).toBe(0);
  });

  it('fails when the newest object of a chain is gone', async () => {
    // Prepare
    const copy = await copyLog([chains.erasure!.at(-1)!]);
    // Act
    const { code, report } = await verify(copy);
    // Assess
    expect(code).toBe(1);
    expect(report.problems).toContainEqual(
      expect.objectContaining({
        kind: 'checkpointed-missing',
        detail: expect.stringContaining(chains.erasure!.at(-1)!),
      }),
    );
  });

  it('fails when a whole chain is gone', async () => {
    // Prepare
    const copy = await copyLog(chains.expiry!);
    // Act
    const { code, report } = await verify(copy);
    // Assess
    expect(code).toBe(1);
    const missing = report.problems.filter((p) => p.kind === 'checkpointed-missing');
    expect(missing).toHaveLength(3);
  });

  it('fails on a well-formed chain nobody wrote, put after the checkpoint', async () => {
    // Prepare: any role that can put objects in the log bucket writes a chain from genesis
    const copy = await copyLog();
    const forged = await writeChain('erasure-request', 2, copy);
    // Act
    const { code, report } = await verify(copy);
    // Assess
    expect(code).toBe(1);
    expect(
      report.problems
        .filter((p) => p.kind === 'not-checkpointed')
        .map((p) => p.key)
        .sort(),
    ).toEqual(forged.sort());
  });

  it('fails on a rewritten checkpoint: a new version in place, or one signed by another key', async () => {
    // Prepare: a checkpoint rewritten in place (a second version of its key) dropping the last
    // object; and a copy whose latest checkpoint is re-signed with a key of the attacker's
    const latest = (await entries()).at(-1)!;
    const latestKey = (
      await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: CHECKPOINT_PREFIX, MaxKeys: 1 }),
      )
    ).Contents![0]!.Key!;
    const inPlace = await copyLog();
    const text = parseSignedNote(latest.checkpoint);
    const shorter = { ...latest, objects: latest.objects.slice(0, -1) };
    await s3.send(
      new PutObjectCommand({ Bucket: inPlace, Key: latestKey, Body: JSON.stringify(shorter) }),
    );
    const resigned = await copyLog();
    const attacker = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const body = parseCheckpoint(text.text);
    const forgedNote = await signCheckpoint(
      newCheckpoint(body.origin, body.size, body.rootHash, new Date()),
      {
        publicKey: attacker.publicKey,
        signatureEncoding: 'der',
        sign: async (m) => sign('sha256', m, attacker.privateKey),
      },
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: resigned,
        Key: latestKey,
        Body: JSON.stringify({ ...latest, checkpoint: forgedNote }),
      }),
    );
    // Act
    const rewritten = await verify(inPlace);
    const other = await verify(resigned);
    // Assess
    expect(rewritten.code).toBe(1);
    expect(rewritten.report.problems.map((p) => p.kind)).toContain('checkpoint-rewritten');
    expect(other.code).toBe(1);
    expect(other.report.problems).toContainEqual(
      expect.objectContaining({ kind: 'checkpoint-invalid', key: latestKey }),
    );
  });

  it("proves a subject's records and a request's against the latest checkpoint, checked offline", async () => {
    // Prepare
    const subjectFile = path.join(work, 'subject-proof.json');
    const requestFile = path.join(work, 'request-proof.json');
    // Act
    const proved = await cli([
      'log',
      'prove',
      '--subject',
      SUBJECT,
      '--out',
      subjectFile,
      ...flags,
    ]);
    const byRequest = await cli([
      'log',
      'prove',
      '--request',
      'R-checkpoint',
      '--out',
      requestFile,
      ...flags,
    ]);
    const checked = await cli(['log', 'check-proof', subjectFile, '--public-key', pemFile]);
    const checkedRequest = await cli(['log', 'check-proof', requestFile, '--public-key', pemFile]);
    // Assess
    expect(proved.code).toBe(0);
    expect(byRequest.code).toBe(0);
    const bundle = JSON.parse(readFileSync(subjectFile, 'utf8')) as {
      records: Array<{ line: string }>;
    };
    expect(bundle.records).toHaveLength(3);
    expect(bundle.records.every((r) => r.line.includes(SUBJECT))).toBe(true);
    expect(checked.code).toBe(0);
    expect(checked.out).toMatch(
      /proof verified: 3 record\(s\) included in the checkpoint of 14 records/,
    );
    expect(checkedRequest.code).toBe(0);
  });

  it('rejects a tampered proof file, and a proof checked with another key', async () => {
    // Prepare: one outcome changed in a record of the bundle; a key that did not sign
    const file = path.join(work, 'subject-proof.json');
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as { records: Array<{ line: string }> };
    bundle.records[1]!.line = bundle.records[1]!.line.replace('"success"', '"failed"');
    const tampered = path.join(work, 'tampered-proof.json');
    writeFileSync(tampered, JSON.stringify(bundle));
    const otherKey = path.join(work, 'other.pem');
    writeFileSync(
      otherKey,
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        .publicKey.export({ format: 'pem', type: 'spki' })
        .toString(),
    );
    // Act
    const altered = await cli(['log', 'check-proof', tampered, '--public-key', pemFile]);
    const wrongKey = await cli(['log', 'check-proof', file, '--public-key', otherKey]);
    // Assess
    expect(altered.code).toBe(1);
    expect(altered.out).toMatch(
      /proof REJECTED: 1 problem[\s\S]*record 2 .*does not lead to the expected root/,
    );
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.out).toMatch(/checkpoint: Note signature rejected/);
  });

  it('replicates the checkpoints to the anchor bucket, under Object Lock (a local replicator stands for S3 replication)', async () => {
    // Prepare
    const anchor = pipeline.environment.outputs.CheckpointAnchorBucketName!;
    // Act
    const copied = await pipeline.replicator.sync();
    const listed = async (from: string) =>
      (
        await s3.send(new ListObjectsV2Command({ Bucket: from, Prefix: CHECKPOINT_PREFIX }))
      ).Contents!.map((o) => o.Key);
    const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: anchor }));
    // Assess
    expect(copied).toBe(2);
    expect(await listed(anchor)).toEqual(await listed(bucket));
    expect(lock.ObjectLockConfiguration?.Rule?.DefaultRetention?.Mode).toBe('COMPLIANCE');
  });

  it('fails on a log whose newest checkpoint went with its objects, or with no checkpoint at all: only the anchor shows it', async () => {
    // Prepare: the newest checkpoint and the objects it added dropped; every checkpoint dropped
    const latestKey = (
      await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: CHECKPOINT_PREFIX, MaxKeys: 1 }),
      )
    ).Contents![0]!.Key!;
    const checkpointKeys = (
      await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: CHECKPOINT_PREFIX }))
    ).Contents!.map((o) => o.Key!);
    const shortened = await copyLog([latestKey, ...chains.hold!]);
    const bare = await copyLog(checkpointKeys);
    // Act
    const withoutAnchor = await verify(shortened, ['--anchor-bucket', '']);
    const withAnchor = await verify(shortened);
    const bareWithAnchor = await verify(bare);
    // Assess
    expect(withoutAnchor.code).toBe(0);
    expect(withAnchor.code).toBe(1);
    expect(withAnchor.report.problems).toEqual([
      expect.objectContaining({ kind: 'anchor-mismatch', key: latestKey }),
    ]);
    expect(bareWithAnchor.code).toBe(1);
    expect(bareWithAnchor.report.problems.map((p) => p.kind)).toEqual([
      'anchor-mismatch',
      'anchor-mismatch',
    ]);
  });

  it('goes on past checkpoint entries someone else put in the log bucket (garbage, an old one replayed), which verify reports', async () => {
    // Prepare: any role that can put objects writes entries sorting before every real one
    const garbageKey = `${CHECKPOINT_PREFIX}0000000000000000.json`;
    const replayKey = `${CHECKPOINT_PREFIX}0000000000000001.json`;
    const first = (await entries())[0]!;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: garbageKey, Body: 'not json' }));
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: replayKey, Body: JSON.stringify(first) }),
    );
    await writeChain('legal-hold', 1);
    // Act
    const run = await checkpoint();
    const { code, report } = await verify(bucket);
    // Assess
    expect(run).toMatchObject({ written: true, previousSize: 14, size: 16, objects: 1 });
    expect(code).toBe(1);
    expect(report.problems).toHaveLength(2);
    expect(report.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'checkpoint-invalid', key: garbageKey }),
        expect.objectContaining({ kind: 'checkpoint-invalid', key: replayKey }),
      ]),
    );
  });
});
