import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  InterruptedRunError,
  PolicyChange,
  type PlanRow,
} from '../shared/operations/policy-change';
import { ProcessingLogWriter } from '../shared/processing-log/writer';
import { forecastExpiries, forecastRows, type ForecastRow } from '../shared/retention/forecast';
import { loadRetentionPolicy, type RetentionPolicy } from '../shared/retention/policy';
import { RESCHEDULE_GRACE } from '../shared/retention/rescheduling';
import { RetentionStore } from '../shared/retention/retention-store';
import { formatPeriod } from '../shared/retention/schedule';
import { StoredDocuments } from '../shared/retention/stored-documents';
import {
  CliError,
  dynamoClientFor,
  explainAwsError,
  requireName,
  s3ClientFor,
  type CliEnvironment,
} from './environment';
import { environmentOf, outputFormat, positiveInteger, type CliIo, type Flags } from './flags';
import { formatResult } from './output';
import { DEFAULT_POLICY_FILE, DEFAULT_TENANTS_FILE } from './register';

/** Processing-log actor of `retention apply`. */
export const APPLY_ACTOR = 'retention-apply';

const PLAN_COLUMNS = [
  'tenant',
  'category',
  'items',
  'unchanged',
  'earlier',
  'later',
  'at-once',
  'held',
  'waiting',
  'skipped',
] as const;

/** The policy and instructions the command applies, and a digest identifying them. */
function loadPolicy(flags: Flags): { policy: RetentionPolicy; digest: string; files: string } {
  const policyFile = flags.policy ?? DEFAULT_POLICY_FILE;
  const tenantsFile = flags.tenants ?? DEFAULT_TENANTS_FILE;
  try {
    const policy = loadRetentionPolicy(policyFile, tenantsFile);
    const digest = createHash('sha256')
      .update(readFileSync(policyFile))
      .update('\u0000')
      .update(readFileSync(tenantsFile))
      .update(`\u0000at-once=${Boolean(flags['at-once'])}`)
      .digest('hex');
    return { policy, digest, files: `${policyFile} and ${tenantsFile}` };
  } catch (error) {
    throw new CliError((error as Error).message, { cause: error });
  }
}

function planTable(rows: readonly PlanRow[], format: 'table' | 'json' | 'csv'): string {
  return formatResult({ columns: [...PLAN_COLUMNS], rows: rows.map((r) => ({ ...r })) }, format);
}

function totals(rows: readonly PlanRow[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const r of rows)
    for (const c of PLAN_COLUMNS.slice(2))
      sum[c] = (sum[c] ?? 0) + (r[c as keyof PlanRow] as number);
  return sum;
}

const grace = formatPeriod(RESCHEDULE_GRACE);

async function plan(change: PolicyChange, flags: Flags, io: CliIo): Promise<number> {
  const format = outputFormat(flags.format);
  const rows = await change.plan({ atOnce: Boolean(flags['at-once']) });
  io.out(planTable(rows, format));
  if (format === 'table') {
    const t = totals(rows);
    io.err(
      `dry run, nothing changed: ${t.earlier} earlier, ${t.later} later, ${t['at-once']} due at once ` +
        (flags['at-once']
          ? '(apply --at-once makes them due now: the next sweep deletes them)'
          : `(apply gives them ${grace} before they are due; --at-once makes them due now)`) +
        `, ${t.held} held (rescheduled, they stay held)`,
    );
  }
  return 0;
}

async function apply(
  change: PolicyChange,
  env: CliEnvironment,
  digest: string,
  flags: Flags,
  io: CliIo,
): Promise<number> {
  const s3 = s3ClientFor(env);
  try {
    const log = new ProcessingLogWriter({
      s3,
      bucket: requireName(env, flags.bucket, 'LogBucketName', 'bucket'),
      actor: APPLY_ACTOR,
    });
    const result = await change.apply(log, {
      atOnce: Boolean(flags['at-once']),
      config: digest,
      pageSize: positiveInteger(flags['page-size'], 'page-size', 100),
      restart: Boolean(flags.restart),
    });
    if (result.resumedFrom) io.err(`continued the run started at ${result.resumedFrom}`);
    io.out(planTable(result.rows, outputFormat(flags.format)));
    io.err(
      `rescheduled ${result.rescheduled} document(s), each logged (operation rescheduled)` +
        (result.deferred > 0 ? `; ${result.deferred} due at once given ${grace}` : ''),
    );
    return 0;
  } catch (error) {
    if (error instanceof InterruptedRunError) throw new CliError(error.message, { cause: error });
    throw error;
  } finally {
    s3.destroy();
  }
}

async function forecast(
  policy: RetentionPolicy,
  documents: StoredDocuments,
  flags: Flags,
  io: CliIo,
): Promise<number> {
  const days = positiveInteger(flags.days, 'days', 30);
  const now = new Date();
  const until = new Date(now.getTime() + days * 86_400_000);
  const rows = new Map<string, ForecastRow>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.scan(start);
    const items = page.items.filter((i) => !flags.tenant || i.tenant === flags.tenant);
    forecastExpiries(items, policy, now, until, rows);
    start = page.next;
  } while (start);
  const shown = forecastRows(rows);
  const columns = ['tenant', 'category', 'week', 'expiring', 'restricted', 'held'];
  io.out(formatResult({ columns, rows: shown.map((r) => ({ ...r })) }, outputFormat(flags.format)));
  const sum = (k: 'expiring' | 'restricted' | 'held') => shown.reduce((s, r) => s + r[k], 0);
  io.err(
    `next ${days} day(s) to ${until.toISOString().slice(0, 10)}: ${sum('expiring')} expiring, ` +
      `${sum('restricted')} restricted at the end of their legal duty, ${sum('held')} held (expire only after release)`,
  );
  return 0;
}

/** `privacy-ops retention plan | apply | forecast` (see the usage). */
export async function retentionCommand(
  sub: string | undefined,
  flags: Flags,
  io: CliIo,
): Promise<number> {
  if (sub !== 'plan' && sub !== 'apply' && sub !== 'forecast')
    throw new CliError('usage: privacy-ops retention plan | apply | forecast (see --help)');
  const { policy, digest, files } = loadPolicy(flags);
  const env = environmentOf(flags);
  const table = requireName(env, flags['retention-table'], 'RetentionTableName', 'retention-table');
  const dynamo = dynamoClientFor(env);
  const store = new RetentionStore({ table, dynamo });
  const documents = new StoredDocuments(dynamo, table);
  io.err(`retention table ${table}${env.endpoint ? ` at ${env.endpoint}` : ''}; policy ${files}`);
  try {
    if (sub === 'forecast') return await forecast(policy, documents, flags, io);
    const change = new PolicyChange(policy, store, documents);
    if (sub === 'plan') return await plan(change, flags, io);
    return await apply(change, env, digest, flags, io);
  } catch (error) {
    throw explainAwsError(error, env, `retention table ${table}`);
  } finally {
    dynamo.destroy();
  }
}
