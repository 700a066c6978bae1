import { sqsRecord } from '../test/support/sqs-records';
import type { SQSEvent } from 'aws-lambda';
import { performance } from 'node:perf_hooks';
import type { LocalPipeline } from '../local/environment';
import { diffCounts, type SdkCallCounter } from '../test/support/call-counter';
import { AWS_CALL_MS, INTAKE_EVENTS, round } from './settings';
import { generateWorkload } from './workload';

/**
 * Intake throughput of one instance: batches of ten invoked one after the other with the pollers
 * stopped, timed end to end, with the share spent awaiting the local endpoint.
 */
export async function measureIntake(pipeline: LocalPipeline, counter: SdkCallCounter) {
  const { outputs } = pipeline.environment;
  const messages = generateWorkload({
    events: INTAKE_EVENTS,
    uploadBucket: outputs.UploadBucketName,
    mix: {
      'privacy.document.uploaded.v1': 5,
      'privacy.account.closed.v1': 1,
      'privacy.erasure.requested.v1': 1,
      'privacy.access.requested.v1': 1,
      'privacy.legal-hold.placed.v1': 1,
    },
    invalidShare: 0,
    idPrefix: 'intake',
    source: '/bench-intake',
  });
  const batches: SQSEvent[] = [];
  for (let i = 0; i < messages.length; i += 10)
    batches.push({
      Records: messages.slice(i, i + 10).map((m) => sqsRecord(m.body, { queue: 'ingress' })),
    });
  const before = counter.snapshot();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const batch of batches) await pipeline.runtime.invoke('intake', batch);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const counts = diffCounts(counter.snapshot(), before);
  const endpointMs = Object.values(counts.intake ?? {}).reduce((a, c) => a + c.endpointMs, 0);
  const calls = Object.values(counts.intake ?? {}).reduce((a, c) => a + c.attempts, 0);
  const handlerMs = wallMs - endpointMs;
  return {
    events: messages.length,
    batchSize: 10,
    wallSeconds: round(wallMs / 1000, 2),
    eventsPerSecond: round(messages.length / (wallMs / 1000), 1),
    sdkCallsPerEvent: round(calls / messages.length, 3),
    endpointSeconds: round(endpointMs / 1000, 2),
    endpointShare: round(endpointMs / wallMs, 3),
    handlerSeconds: round(handlerMs / 1000, 2),
    processCpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
    eventsPerSecondWithoutEndpointWait: round(messages.length / (handlerMs / 1000), 1),
    eventsPerSecondWithAwsLatency: round(
      messages.length / ((handlerMs + calls * AWS_CALL_MS) / 1000),
      1,
    ),
  };
}
