import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/main';
import { startOperationsHarness, type OperationsHarness } from './operations-harness';

jest.setTimeout(240_000);

/** Runs the CLI in-process and captures its output. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const SECRET = 'SECRET-SUBJECT-42';

describe('dlq list, show and redrive (local endpoint)', () => {
  let h: OperationsHarness;
  let work: string;
  let flags: string[];
  /** Upload events whose file was not there yet: refused `upload-missing`. */
  const early: Array<Record<string, unknown>> = [];

  const depth = async () => {
    const got = await h.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: h.outputs.DeadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(got.Attributes!.ApproximateNumberOfMessages),
      hidden: Number(got.Attributes!.ApproximateNumberOfMessagesNotVisible),
    };
  };
  const groups = async () => {
    const listed = await cli(['dlq', 'list', '--format', 'json', ...flags]);
    expect(listed.code).toBe(0);
    return {
      listed,
      byReason: Object.fromEntries(
        (
          JSON.parse(listed.out) as Array<{
            reason: string;
            count: number;
            sample: { messageId: string };
          }>
        ).map((g) => [g.reason, g]),
      ),
    };
  };

  beforeAll(async () => {
    h = await startOperationsHarness();
    work = mkdtempSync(path.join(tmpdir(), 'dlq-cli-'));
    const outputs = path.join(work, 'outputs.json');
    writeFileSync(
      outputs,
      JSON.stringify({ endpoint: h.pipeline.endpoint, region: 'eu-west-3', ...h.outputs }),
    );
    flags = ['--outputs', outputs];
    // Twelve uploads sent before their file (more than one receive returns), two events the intake
    // refuses, carrying a subject id in clear, and a body that is not JSON.
    for (let i = 0; i < 12; i += 1)
      early.push(
        h.event('privacy.document.uploaded.v1', {
          subjectId: `${SECRET}-${i}`,
          documentId: `early-${i}`,
          category: 'payroll-document',
          upload: { bucket: h.outputs.UploadBucketName, key: `acme-sas/incoming/early-${i}.pdf` },
        }),
      );
    const refused = [0, 1].map((i) =>
      h.event('privacy.document.uploaded.v1', {
        subjectId: SECRET,
        documentId: `bad-${i}`,
        category: 'Not A Category',
        upload: { bucket: h.outputs.UploadBucketName, key: `acme-sas/incoming/bad-${i}.pdf` },
      }),
    );
    await h.send(...early, ...refused);
    await h.sqs.send(
      new SendMessageCommand({ QueueUrl: h.outputs.IngressQueueUrl, MessageBody: `{${SECRET}` }),
    );
    await h.pipeline.runtime.waitForIdle(90_000);
  });

  afterAll(async () => {
    await h?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('lists the dead letters by rejection reason with a sample, and leaves every one visible', async () => {
    // Act
    const first = await groups();
    const second = await groups();
    const after = await depth();
    // Assess
    const counts = (g: typeof first) =>
      Object.fromEntries(Object.values(g.byReason).map((x) => [x.reason, x.count]));
    expect(counts(first)).toEqual({
      'upload-missing': 12,
      'invalid-field:data.category': 2,
      'invalid-json': 1,
    });
    expect(counts(second)).toEqual(counts(first));
    expect(after).toEqual({ visible: 15, hidden: 0 });
    expect(first.byReason['upload-missing']!.sample).toMatchObject({
      type: 'privacy.document.uploaded.v1',
      tenant: 'acme-sas',
      reason: 'upload-missing',
      detail: expect.any(String),
    });
    expect(first.listed.out).not.toContain(SECRET);
    const table = await cli(['dlq', 'list', ...flags]);
    expect(table.out).toMatch(/^reason\s+count\s+messageId\s+type\s+tenant\s+detail/);
    expect(table.out).toMatch(/upload-missing\s+12\s/);
    expect(table.out).not.toContain(SECRET);
  });

  it('shows one dead letter with its attributes and the data masked, unless revealed', async () => {
    // Prepare
    const { byReason } = await groups();
    const id = byReason['invalid-field:data.category']!.sample.messageId;
    // Act
    const shown = await cli(['dlq', 'show', id, ...flags]);
    const revealed = await cli(['dlq', 'show', id, '--reveal', ...flags]);
    const missing = await cli(['dlq', 'show', 'no-such-message', ...flags]);
    // Assess
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`message ${id}`);
    expect(shown.out).toContain('rejection-reason: invalid-field:data.category');
    expect(shown.out).toContain('"tenantid": "acme-sas"');
    expect(shown.out).toContain('"type": "privacy.document.uploaded.v1"');
    expect(shown.out).toContain(`"subjectId": "‹masked: ${SECRET.length} characters›"`);
    expect(shown.out).not.toContain(SECRET);
    expect(revealed.out).toContain(`"subjectId": "${SECRET}"`);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no message no-such-message in the dead-letter queue \(15 message/);
    expect(await depth()).toEqual({ visible: 15, hidden: 0 });
  });

  it('redrives after the fix: dry run first, then sent back unchanged, deleted, logged; what the intake still refuses stays', async () => {
    // Prepare: the fix, the files arrive
    for (let i = 0; i < 12; i += 1)
      await h.s3.send(
        new PutObjectCommand({
          Bucket: h.outputs.UploadBucketName,
          Key: `acme-sas/incoming/early-${i}.pdf`,
          Body: `payslip ${i}`,
        }),
      );
    // Act
    const dry = await cli(['dlq', 'redrive', '--reason', 'upload-missing', '--dry-run', ...flags]);
    const afterDry = await depth();
    const redriven = await cli(['dlq', 'redrive', '--reason', 'upload-missing', ...flags]);
    await h.pipeline.runtime.waitForIdle(90_000);
    const refused = await cli(['dlq', 'redrive', ...flags]);
    const left = await groups();
    const stored = await Promise.all(
      early.map((e) => h.items((e.data as { subjectId: string }).subjectId)),
    );
    const logged = (await h.logs()).filter((r) => r.operation === 'redriven');
    const verify = await cli(['log', 'verify', ...flags]);
    // Assess
    expect(dry.code).toBe(0);
    expect(dry.out.split('\n').filter((l) => l.startsWith('would redrive'))).toHaveLength(12);
    expect(afterDry).toEqual({ visible: 15, hidden: 0 });
    expect(redriven.code).toBe(0);
    expect(redriven.err).toMatch(/redrove 12 message\(s\) to the ingress queue, each logged/);
    expect(stored.map((s) => Object.keys(s).length)).toEqual(Array(12).fill(1));
    expect(refused.err.match(/the intake still refuses it/g)).toHaveLength(3);
    expect(Object.keys(left.byReason).sort()).toEqual([
      'invalid-field:data.category',
      'invalid-json',
    ]);
    expect(logged).toHaveLength(12);
    expect(new Set(logged.map((r) => r.eventId))).toEqual(new Set(early.map((e) => e.id)));
    expect(
      logged.every((r) => r.reason === 'redriven-after:upload-missing' && r.subject === null),
    ).toBe(true);
    expect(JSON.stringify(logged)).not.toContain(SECRET);
    expect(verify.code).toBe(0);
  });

  it("sends the body unchanged with the producer's attributes, without the rejection attributes", async () => {
    // Prepare: a dead letter as the pipeline writes it, and a scratch queue to receive the redrive
    const target = await h.sqs.send(new CreateQueueCommand({ QueueName: `redrive-${Date.now()}` }));
    const body = JSON.stringify(
      h.event('privacy.account.closed.v1', {
        subjectId: 'someone',
        closedAt: '2026-01-01T00:00:00Z',
      }),
    );
    await h.sqs.send(
      new SendMessageCommand({
        QueueUrl: h.outputs.DeadLetterQueueUrl,
        MessageBody: body,
        MessageAttributes: {
          'trace-id': { DataType: 'String', StringValue: 'abc-123' },
          'rejection-reason': { DataType: 'String', StringValue: 'test-fixed' },
          'rejection-detail': { DataType: 'String', StringValue: 'fixed since' },
          'rejected-by': { DataType: 'String', StringValue: 'account-closure' },
          'original-message-id': { DataType: 'String', StringValue: 'm-1' },
        },
      }),
    );
    // Act
    const result = await cli([
      'dlq',
      'redrive',
      '--reason',
      'test-fixed',
      '--ingress-queue',
      target.QueueUrl!,
      ...flags,
    ]);
    const received = await h.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: target.QueueUrl!,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    // Assess
    expect(result.code).toBe(0);
    expect(received.Messages).toHaveLength(1);
    expect(received.Messages![0]!.Body).toBe(body);
    expect(Object.keys(received.Messages![0]!.MessageAttributes ?? {})).toEqual(['trace-id']);
    expect(Object.keys((await groups()).byReason)).not.toContain('test-fixed');
  });
});
