import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { HttpResponse } from '@smithy/protocol-http';
import AWSXRay from 'aws-xray-sdk-core';
import http from 'node:http';
import { Readable } from 'node:stream';
import { functionTracer } from '../../shared/aws/tracing';

/** A request handler answering every call with an empty 200: the SDK's real path, no network. */
const answering = (body = '') => ({
  handle: async () => ({
    response: new HttpResponse({
      statusCode: 200,
      headers: { 'x-amz-request-id': 'req-1' },
      body: Readable.from([Buffer.from(body)]),
    }),
  }),
});

const CLIENT = { region: 'eu-west-3', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };

/** Runs `calls` inside a segment and returns the segment as X-Ray would receive it. */
async function traced(calls: () => Promise<unknown>): Promise<string> {
  const segment = new AWSXRay.Segment('privacy-ops-test');
  await AWSXRay.getNamespace().runPromise(async () => {
    AWSXRay.setSegment(segment);
    await calls();
  });
  return JSON.stringify(segment);
}

describe('tracing records no producer-chosen value', () => {
  const saved = process.env.AWS_EXECUTION_ENV;
  beforeAll(() => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs24.x';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.AWS_EXECUTION_ENV;
    else process.env.AWS_EXECUTION_ENV = saved;
  });

  it('records the operation and the bucket or queue of each call, never an object key or message', async () => {
    // Prepare: the clients as a function in Lambda traces them; a producer's key naming a person
    const tracer = functionTracer();
    const s3 = tracer.captureAWSv3Client(new S3Client({ ...CLIENT, requestHandler: answering() }));
    const sqs = tracer.captureAWSv3Client(
      new SQSClient({ ...CLIENT, requestHandler: answering('{}') }),
    );
    const key = 'acme-sas/uploads/jane-doe-payslip-2026.pdf';
    // Act
    const segment = await traced(async () => {
      await s3.send(new GetObjectCommand({ Bucket: 'upload-bucket', Key: key }));
      await s3.send(new PutObjectCommand({ Bucket: 'vault-bucket', Key: key, Body: 'x' }));
      await sqs
        .send(
          new SendMessageCommand({
            QueueUrl: 'https://sqs.eu-west-3.amazonaws.com/1/ops',
            MessageBody: 'jane-doe',
          }),
        )
        .catch(() => undefined);
    });
    // Assess: the calls are there, with their bucket, and no byte of the key or the body
    expect(segment).toContain('"operation":"GetObject"');
    expect(segment).toContain('"operation":"PutObject"');
    expect(segment).toContain('"bucket_name":"upload-bucket"');
    expect(segment).not.toContain('jane-doe');
    expect(segment).not.toContain('payslip');
  });

  it('leaves Node.js HTTP alone: no subsegment with a request URL (an S3 URL holds the object key)', async () => {
    // Prepare: a local server, and the tracer as a function in Lambda makes it
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    functionTracer();
    // Act: a plain HTTP request inside a segment
    const segment = await traced(
      () =>
        new Promise((resolve, reject) =>
          http
            .get(`http://127.0.0.1:${port}/acme-sas/jane-doe-payslip.pdf`, (res) => {
              res.resume();
              res.on('end', resolve);
            })
            .on('error', reject),
        ),
    );
    server.close();
    // Assess: X-Ray's global HTTP capture would have added a subsegment with the URL
    expect(segment).not.toContain('jane-doe');
    expect(JSON.parse(segment).subsegments ?? []).toEqual([]);
  });
});
