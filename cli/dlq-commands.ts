import { createHash } from 'node:crypto';
import { bodyAsJson, rejectionIdentifiers } from '../shared/batch/rejection-record';
import { decideIngressMessage } from '../shared/intake/validate';
import type { LogEntry } from '../shared/processing-log/writer';
import { ProcessingLogWriter } from '../shared/processing-log/writer';
import { DeadLetterQueue, REJECTION_ATTRIBUTES, type DeadLetter } from './dead-letter-queue';
import {
  CliError,
  explainAwsError,
  requireName,
  s3ClientFor,
  sqsClientFor,
  type CliEnvironment,
} from './environment';
import { environmentOf, outputFormat, type CliIo, type Flags } from './flags';
import { formatResult } from './output';

/** Processing-log actor of `dlq redrive`. */
export const REDRIVE_ACTOR = 'dlq-redrive';

/** What `dlq list` shows of a message: identifiers only, never a subject id or body text. */
export interface DeadLetterSample {
  readonly messageId: string;
  readonly type: string | null;
  readonly tenant: string;
  readonly reason: string;
  readonly detail: string | null;
}

/** The identifiers of a dead letter that are safe to print (as the processing log would). */
export function sampleOf(m: DeadLetter): DeadLetterSample {
  const ids = rejectionIdentifiers(bodyAsJson(m.body));
  return {
    messageId: m.messageId,
    type: ids.eventType,
    tenant: ids.tenant,
    reason: m.reason,
    detail: m.attributes['rejection-detail']?.StringValue ?? null,
  };
}

/** Dead letters grouped by rejection reason: count and one sample each, largest group first. */
export function groupByReason(
  messages: readonly DeadLetter[],
): Array<{ reason: string; count: number; sample: DeadLetterSample }> {
  const groups = new Map<string, { reason: string; count: number; sample: DeadLetterSample }>();
  for (const m of messages) {
    const group = groups.get(m.reason);
    if (group) group.count += 1;
    else groups.set(m.reason, { reason: m.reason, count: 1, sample: sampleOf(m) });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** A value replaced by its kind and size: enough to see what was sent, nothing of what it says. */
function masked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(masked);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v)]));
  if (typeof value === 'string') return `‹masked: ${value.length} characters›`;
  return `‹masked ${value === null ? 'null' : typeof value}›`;
}

/**
 * The envelope of a dead letter with the data values masked: the envelope identifiers that are
 * safe to log are shown (see `rejectionIdentifiers`), every other value is masked.
 */
export function maskedEnvelope(body: string): unknown {
  const raw = bodyAsJson(body);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return `‹body is not a JSON object: ${Buffer.byteLength(body)} bytes; --reveal prints it›`;
  const ids = rejectionIdentifiers(raw);
  const shown: Record<string, unknown> = {
    id: ids.eventId,
    source: ids.eventSource,
    type: ids.eventType,
    tenantid: ids.tenant,
  };
  const event = raw as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(event).map(([k, v]) => {
      if (k === 'specversion' || k === 'time' || k === 'datacontenttype')
        return [k, typeof v === 'string' && /^[\x20-\x7E]{0,64}$/.test(v) ? v : masked(v)];
      if (k in shown && shown[k] !== null && shown[k] !== 'unknown') return [k, shown[k]];
      return [k, masked(v)];
    }),
  );
}

function showMessage(m: DeadLetter, reveal: boolean): string {
  const lines = [`message ${m.messageId}`];
  const sent = m.system.SentTimestamp;
  if (sent) lines.push(`  sent to the dead-letter queue ${new Date(Number(sent)).toISOString()}`);
  if (m.system.ApproximateReceiveCount)
    lines.push(`  received ${m.system.ApproximateReceiveCount} time(s) (listing counts too)`);
  lines.push('attributes:');
  for (const [name, attr] of Object.entries(m.attributes).sort(([a], [b]) => a.localeCompare(b))) {
    const ours = REJECTION_ATTRIBUTES.includes(name);
    const value = attr.StringValue ?? `‹${attr.DataType} value›`;
    lines.push(`  ${name}: ${ours || reveal ? value : masked(value)}`);
  }
  lines.push(reveal ? 'body (revealed):' : 'envelope (data values masked; --reveal shows them):');
  const body = reveal ? (bodyAsJson(m.body) ?? m.body) : maskedEnvelope(m.body);
  lines.push(typeof body === 'string' ? body : JSON.stringify(body, null, 2));
  return lines.join('\n');
}

/** The `redriven` record of a message sent back: identifiers only, one record per message. */
export function redrivenEntry(m: DeadLetter): LogEntry {
  const ids = rejectionIdentifiers(bodyAsJson(m.body));
  return {
    recordId: createHash('sha256').update(`redriven|${m.messageId}`).digest('hex').slice(0, 32),
    tenant: ids.tenant,
    operation: 'redriven',
    outcome: 'success',
    eventId: ids.eventId,
    eventSource: ids.eventSource,
    eventType: ids.eventType,
    reason: `redriven-after:${m.attributes['rejection-reason']?.StringValue ?? 'receive-limit'}`,
  };
}

/**
 * Why `dlq redrive` leaves a dead letter where it is, or undefined when it may go back. The intake
 * remembers a body it refused and drops it if it comes again: a message it would still refuse
 * stays, or it would be lost. A message refused as outside its producer's registration stays too:
 * sent back, it would come from the operator's principal, and be judged by that registration
 * instead of its producer's; the producer sends it again once registered.
 */
export function redriveRefusal(m: DeadLetter, uploadBucket: string): string | undefined {
  if (m.reason.startsWith('producer-not-authorised:'))
    return `${m.reason}: the producer sends it again once registered`;
  const decision = decideIngressMessage(m.body, { uploadBucket });
  return decision.ok ? undefined : `the intake still refuses it (${decision.error.reason})`;
}

async function redrive(
  queue: DeadLetterQueue,
  env: CliEnvironment,
  flags: Flags,
  io: CliIo,
): Promise<number> {
  const ingress = requireName(env, flags['ingress-queue'], 'IngressQueueUrl', 'ingress-queue');
  const uploadBucket = requireName(env, undefined, 'UploadBucketName', 'upload-bucket');
  const s3 = s3ClientFor(env);
  try {
    const log = new ProcessingLogWriter({
      s3,
      bucket: requireName(env, flags.bucket, 'LogBucketName', 'bucket'),
      actor: REDRIVE_ACTOR,
    });
    return await queue.browse(async (messages) => {
      const matching = messages.filter((m) => !flags.reason || m.reason === flags.reason);
      const ready: DeadLetter[] = [];
      for (const m of matching) {
        const refusal = redriveRefusal(m, uploadBucket);
        if (refusal === undefined) ready.push(m);
        else io.err(`left ${m.messageId}: ${refusal}`);
      }
      const verb = flags['dry-run'] ? 'would redrive' : 'redriving';
      for (const m of ready) io.out(`${verb} ${m.messageId} (${m.reason})`);
      if (flags['dry-run'] || ready.length === 0) {
        io.err(
          `${ready.length} of ${messages.length} message(s) ${flags['dry-run'] ? 'would be redriven (dry run: nothing sent)' : 'to redrive'}`,
        );
        return { result: 0 };
      }
      const sent = await queue.sendTo(ingress, ready);
      const gone = ready.filter((m) => sent.has(m.messageId));
      log.begin();
      for (const m of gone) log.add(redrivenEntry(m));
      await log.flush();
      const removed = await queue.remove(gone);
      io.err(
        `redrove ${removed.size} message(s) to the ingress queue, each logged (operation redriven)` +
          (sent.size < ready.length
            ? `; ${ready.length - sent.size} not accepted by SQS, left`
            : ''),
      );
      return { result: sent.size < ready.length ? 1 : 0, removed };
    });
  } finally {
    s3.destroy();
  }
}

/** `privacy-ops dlq list | show <message id> | redrive` (see the usage). */
export async function dlqCommand(
  sub: string | undefined,
  rest: readonly string[],
  flags: Flags,
  io: CliIo,
): Promise<number> {
  if (sub !== 'list' && sub !== 'show' && sub !== 'redrive')
    throw new CliError('usage: privacy-ops dlq list | show <message id> | redrive (see --help)');
  if (sub === 'show' && !rest[0])
    throw new CliError('usage: privacy-ops dlq show <message id> [--reveal]');
  const env = environmentOf(flags);
  const queueUrl = requireName(env, flags.queue, 'DeadLetterQueueUrl', 'queue');
  const sqs = sqsClientFor(env);
  const queue = new DeadLetterQueue(sqs, queueUrl);
  try {
    if (sub === 'redrive') return await redrive(queue, env, flags, io);
    if (sub === 'show')
      return await queue.browse(async (messages) => {
        const found = messages.find((m) => m.messageId === rest[0]);
        if (!found)
          throw new CliError(
            `no message ${rest[0]} in the dead-letter queue (${messages.length} message(s) in it)`,
          );
        io.out(showMessage(found, Boolean(flags.reveal)));
        return { result: 0 };
      });
    const format = outputFormat(flags.format);
    return await queue.browse(async (messages) => {
      const groups = groupByReason(messages);
      if (format === 'json') io.out(JSON.stringify(groups, null, 2));
      else
        io.out(
          formatResult(
            {
              columns: ['reason', 'count', 'messageId', 'type', 'tenant', 'detail'],
              rows: groups.map((g) => ({ ...g.sample, reason: g.reason, count: g.count })),
            },
            format,
          ),
        );
      io.err(`${messages.length} message(s) in the dead-letter queue, all visible again`);
      return { result: 0 };
    });
  } catch (error) {
    throw explainAwsError(error, env, `dead-letter queue ${queueUrl}`);
  } finally {
    sqs.destroy();
  }
}
