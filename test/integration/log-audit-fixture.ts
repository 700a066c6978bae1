import { KMSClient } from '@aws-sdk/client-kms';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/main';
import { localClientOptions } from '../../local/client-options';
import type { LocalPipeline } from '../../local/environment';
import { Pseudonymizer } from '../../shared/pseudonym';
import { startTestPipeline } from '../helpers/local-pipeline';
import { writeSyntheticLog } from './log-audit-records';

/** Runs the CLI in-process and captures its output. */
export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

export const TENANT = 'acme-sas';
/** Tenant of the records written directly with ProcessingLogWriter (kinds no operation writes yet). */
export const SYNTHETIC_TENANT = 'audit-synthetic';
export const SUBJECTS = ['emp-00042', 'emp-00043', 'cust:7781@acme'];

/** A pipeline whose log holds real runs and labelled synthetic records, for the auditors' tests. */
export interface LogAudit {
  readonly pipeline: LocalPipeline;
  readonly s3: S3Client;
  readonly kms: KMSClient;
  /** The log bucket. */
  readonly bucket: string;
  /** A scratch directory, removed by {@link LogAudit.stop}. */
  readonly work: string;
  /** The pipeline's outputs file, and the CLI flags naming it. */
  readonly outputsFile: string;
  readonly flags: string[];
  readonly pseudonyms: Pseudonymizer;
  readonly pseudonymKeyId: string;
  /** The pseudonym of the synthetic records' subject. */
  readonly syntheticSubject: string;
  /** Keys of the synthetic chain written by one writer (3 objects). */
  readonly chainKeys: string[];
  readonly otherChainKeys: string[];
  stop(): Promise<void>;
}

/** An upload event of the log-audit runs. */
function document(
  pipeline: LocalPipeline,
  subject: string,
  documentId: string,
  category = 'accounting-document',
) {
  return {
    specversion: '1.0',
    id: `log-audit-${documentId}`,
    source: '/expense-service',
    type: 'privacy.document.uploaded.v1',
    time: '2026-03-14T09:12:00Z',
    tenantid: TENANT,
    data: {
      subjectId: subject,
      documentId,
      category,
      upload: {
        bucket: pipeline.environment.outputs.UploadBucketName,
        key: `${TENANT}/incoming/${documentId}.pdf`,
      },
      documentDate: '2026-03-13',
    },
  };
}

/**
 * Starts a pipeline with one poller per queue (one function instance at a time, as in Lambda),
 * runs real uploads (received records) and invalid events (rejected records) through it, then
 * writes synthetic records (requests and expiries, under their own tenant so that expectations
 * are exact) with the real writer.
 */
export async function startLogAudit(): Promise<LogAudit> {
  const pipeline = await startTestPipeline({ concurrencyPerMapping: 1 });
  const options = localClientOptions(pipeline.endpoint, 'eu-west-3');
  const s3 = new S3Client(options);
  const kms = new KMSClient(options);
  const sqs = new SQSClient(options);
  const { outputs } = pipeline.environment;
  const bucket = outputs.LogBucketName!;
  const work = mkdtempSync(path.join(tmpdir(), 'log-audit-'));
  const outputsFile = path.join(work, 'outputs.json');
  writeFileSync(
    outputsFile,
    JSON.stringify({ endpoint: pipeline.endpoint, region: 'eu-west-3', ...outputs }),
  );
  const pseudonymKeyId = pipeline.runtime.findFunction('intake').environment.PSEUDONYM_KEY_ID;
  const pseudonyms = new Pseudonymizer(kms, pseudonymKeyId);

  const documents = SUBJECTS.map((subject, i) => ({ subject, documentId: `doc-${i}` }));
  for (const d of documents)
    await s3.send(
      new PutObjectCommand({
        Bucket: outputs.UploadBucketName,
        Key: `${TENANT}/incoming/${d.documentId}.pdf`,
        Body: `content of ${d.documentId}`,
      }),
    );
  const invalid = [
    {
      ...document(pipeline, SUBJECTS[0]!, 'bad-1', 'no-such-category'),
      id: 'log-audit-bad-category',
    },
    {
      ...document(pipeline, SUBJECTS[1]!, 'bad-2'),
      id: 'log-audit-bad-field',
      data: { subjectId: SUBJECTS[1] },
    },
  ];
  const valid = documents.map((d) => document(pipeline, d.subject, d.documentId));
  for (const event of [...valid, ...invalid])
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: outputs.IngressQueueUrl,
        MessageBody: JSON.stringify(event),
      }),
    );
  await pipeline.runtime.waitForIdle(90_000);
  sqs.destroy();

  const syntheticSubject = await pseudonyms.subject(SYNTHETIC_TENANT, 'person-1');
  const written = await writeSyntheticLog(s3, bucket, SYNTHETIC_TENANT, syntheticSubject);
  return {
    pipeline,
    s3,
    kms,
    bucket,
    work,
    outputsFile,
    flags: ['--outputs', outputsFile],
    pseudonyms,
    pseudonymKeyId,
    syntheticSubject,
    chainKeys: written.chainKeys,
    otherChainKeys: written.otherChainKeys,
    stop: async () => {
      await pipeline.stop();
      s3.destroy();
      kms.destroy();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
