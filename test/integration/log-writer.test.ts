import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { ProcessingLogVerifier } from '../../shared/processing-log/verify';
import { GENESIS, ProcessingLogWriter } from '../../shared/processing-log/writer';
import { localClientOptions } from '../../local/client-options';

describe('ProcessingLogWriter: one chained object per invocation', () => {
  const endpoint = process.env.PRIVACY_OPS_TEST_ENDPOINT!;
  let s3: S3Client;
  let bucket: string;

  beforeAll(async () => {
    s3 = new S3Client(localClientOptions(endpoint));
    bucket = `log-writer-${randomBytes(4).toString('hex')}`;
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-3' },
      }),
    );
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
  });

  afterAll(() => s3?.destroy());

  const entry = (n: number) => ({
    tenant: 'acme-sas',
    operation: 'received' as const,
    outcome: 'success' as const,
    eventId: `evt-${n}`,
    eventSource: '/test',
  });

  it('chains its objects with seq and digests in S3 metadata, and writes nothing when empty', async () => {
    // Prepare
    const writer = new ProcessingLogWriter({ s3, bucket, actor: 'chain-test' });
    const keys: string[] = [];
    // Act
    for (let i = 0; i < 3; i += 1) {
      writer.begin();
      writer.add(entry(i));
      keys.push((await writer.flush())!);
    }
    writer.begin();
    const empty = await writer.flush();
    const heads = await Promise.all(
      keys.map((Key) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key }))),
    );
    // Assess
    expect(empty).toBeUndefined();
    expect(writer.nextSeq).toBe(3);
    expect(heads.map((h) => h.Metadata!.seq)).toEqual(['0', '1', '2']);
    expect(heads[0]!.Metadata!['prev-sha256']).toBe(GENESIS);
    expect(heads[1]!.Metadata!['prev-sha256']).toBe(heads[0]!.Metadata!['records-sha256']);
    expect(heads[2]!.Metadata!['prev-sha256']).toBe(heads[1]!.Metadata!['records-sha256']);
    expect(new Set(heads.map((h) => h.Metadata!.writer))).toEqual(new Set([writer.writerId]));
    expect(
      keys.every((k) => k.startsWith(`dt=${new Date().toISOString().slice(0, 10)}/chain-test/`)),
    ).toBe(true);
  });

  it('keeps the chain linear when a PUT lands but its response is lost, or fails before landing', async () => {
    // Prepare: a client whose next PUT is sent and then reported failed, then one that fails unsent.
    let mode: 'ok' | 'lost-response' | 'not-sent' = 'ok';
    const flaky = {
      send: async (command: unknown) => {
        if (command instanceof PutObjectCommand && mode !== 'ok') {
          const current = mode;
          mode = 'ok';
          if (current === 'lost-response') await s3.send(command);
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
        }
        return s3.send(command as PutObjectCommand);
      },
    } as unknown as S3Client;
    const actor = `flaky-${randomBytes(2).toString('hex')}`;
    const writer = new ProcessingLogWriter({ s3: flaky, bucket, actor });
    const attempt = async (n: number, failure: typeof mode) => {
      writer.begin();
      writer.add(entry(n));
      mode = failure;
      try {
        return await writer.flush();
      } catch {
        writer.discard();
        return undefined;
      }
    };
    // Act
    await attempt(10, 'ok');
    const lost = await attempt(11, 'lost-response');
    await attempt(12, 'ok');
    const unsent = await attempt(13, 'not-sent');
    await attempt(13, 'ok');
    const report = await new ProcessingLogVerifier(s3, bucket).verify();
    // Assess
    expect(lost).toBeUndefined();
    expect(unsent).toBeUndefined();
    expect(writer.nextSeq).toBe(4);
    // this test's bucket has no Object Lock (the lock check has its own test): the chain is intact
    expect(report.problems.filter((p) => p.kind !== 'object-lock')).toEqual([]);
  });
});
