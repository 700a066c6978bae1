import { AthenaClient } from '@aws-sdk/client-athena';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  NAMED_QUERIES,
  namedQuery,
  type PseudonymKind,
} from '../shared/processing-log/named-queries';
import {
  formatVerifyReport,
  ProcessingLogVerifier,
  type VerifyReport,
} from '../shared/processing-log/verify';
import { Pseudonymizer } from '../shared/pseudonym';
import { AthenaLog } from './athena-log';
import {
  checkpointAnchor,
  checkProof,
  checkpointPublicKey,
  proveRecords,
  takeCheckpoint,
} from './checkpoint-commands';
import { DuckDbLog } from './duckdb-log';
import { dlqCommand } from './dlq-commands';
import {
  CliError,
  type CliEnvironment,
  explainAwsError,
  kmsClientFor,
  requireName,
  s3ClientFor,
} from './environment';
import { environmentOf, type CliIo, type Flags, outputFormat, parse, parseParams } from './flags';
import { formatResult } from './output';
import { resolvePseudonymKey } from './pseudonym-key';
import {
  buildRegister,
  controllersCsv,
  DEFAULT_POLICY_FILE,
  DEFAULT_TENANTS_FILE,
  registerCsv,
  registerMarkdown,
} from './register';
import { collectReportData, type LogQueryRunner, renderReport } from './report';
import { retentionCommand } from './retention-commands';

export type { CliIo } from './flags';

const USAGE = `privacy-ops: the operators' and auditors' tools

usage:
  privacy-ops log query <name> [--param key=value]... [--format table|json|csv]
  privacy-ops log query --sql "SELECT … FROM <table>" [--format …]
  privacy-ops log queries                       list the named queries
  privacy-ops log verify [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format json] [--public-key <pem>] [--origin <origin>]
      [--anchor-bucket <name>]  (checks the signed checkpoints with the pinned key, else the key's
      public half from KMS, and compares them with their replica in the other EU region)
  privacy-ops log checkpoint                    take a signed checkpoint now (locally; deployed: invoke the function)
  privacy-ops log prove --subject <pseudonym> | --request <request id> [--out <file>]
      writes the records with their inclusion proofs against the latest checkpoint
  privacy-ops log check-proof <file> --public-key <pem>   checks a proof file offline, without AWS
  privacy-ops pseudonym <subjectId> --tenant <tenant> [--key <kms key>]
  privacy-ops pseudonym --request <requestId> | --hold <holdId> --tenant <tenant> [--key <kms key>]
  privacy-ops register [--policy ${DEFAULT_POLICY_FILE}] [--tenants ${DEFAULT_TENANTS_FILE}] [--out <dir>]
  privacy-ops report [--out compliance-report.html] [--tenant <tenant>] [--from …] [--to …] [--no-verify]
  privacy-ops retention plan [--at-once] [--format table|json]      what a policy change does to stored documents
  privacy-ops retention apply [--at-once] [--restart] [--page-size N]  reschedule them (resumable, logged)
  privacy-ops retention forecast [--days 30] [--tenant <tenant>] [--format table|json|csv]
    (retention commands read --policy and --tenants, default the files above, and --retention-table)
  privacy-ops dlq list [--format table|json]                         dead letters by rejection reason
  privacy-ops dlq show <message id> [--reveal]                       one dead letter, data masked
  privacy-ops dlq redrive [--reason <reason>] [--dry-run]            back to the ingress queue after a fix

where the log is:
  locally (default when .local/outputs.json exists, written by npm start, or with --endpoint <url>):
    the log objects are fetched from the log bucket and queried on DuckDB (view named like the Glue table)
  on a deployed stack (--deployed, AWS default credentials): --bucket <LogBucketName>
    and, for queries, --athena --workgroup <AthenaWorkGroupName> --database <GlueDatabaseName> --table <GlueTableName>

common flags: --endpoint <url> --region <region> --outputs <file> --bucket <name> --table <name>
  --retention-table <RetentionTableName> --queue <DeadLetterQueueUrl> --ingress-queue <IngressQueueUrl>`;

/** Opens the log for queries: DuckDB over the fetched objects, or Athena. */
async function openLog(
  flags: Flags,
  env: CliEnvironment,
  io: CliIo,
): Promise<{ log: LogQueryRunner; table: string; close: () => void }> {
  if (flags.athena) {
    const target = {
      workgroup: requireName(env, flags.workgroup, 'AthenaWorkGroupName', 'workgroup'),
      database: requireName(env, flags.database, 'GlueDatabaseName', 'database'),
      table: requireName(env, flags.table, 'GlueTableName', 'table'),
    };
    const athena = new AthenaClient(env.region ? { region: env.region } : {});
    return {
      log: new AthenaLog(athena, target, io.err),
      table: `"${target.database}"."${target.table}"`,
      close: () => athena.destroy(),
    };
  }
  const bucket = requireName(env, flags.bucket, 'LogBucketName', 'bucket');
  const table = flags.table ?? env.outputs.GlueTableName ?? 'processing_log';
  const s3 = s3ClientFor(env);
  try {
    const log = await DuckDbLog.fromBucket(s3, bucket, table, {
      from: flags.from,
      to: flags.to,
      progress: io.err,
    });
    io.err(
      `log table: ${table} (DuckDB over ${bucket}${env.endpoint ? ` at ${env.endpoint}` : ''})`,
    );
    return { log, table, close: () => (log.close(), s3.destroy()) };
  } catch (error) {
    s3.destroy();
    throw explainAwsError(error, env, `log bucket ${bucket}`);
  }
}

async function logQuery(names: string[], flags: Flags, io: CliIo): Promise<number> {
  const format = outputFormat(flags.format);
  if (!flags.sql && names.length !== 1)
    throw new CliError(
      `log query needs one query name or --sql; named queries: ${NAMED_QUERIES.map((q) => q.name).join(', ')}`,
    );
  let sql: string;
  try {
    sql = flags.sql ?? namedQuery(names[0]!).sql;
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const params = parseParams(flags.param);
  const query = flags.sql ? undefined : namedQuery(names[0]!);
  for (const p of query?.parameters ?? [])
    if (params[p] === undefined) throw new CliError(`${query!.name} needs --param ${p}=<value>`);
  const env = environmentOf(flags);
  await pseudonymizeParams(query?.pseudonyms ?? {}, params, flags, env);
  const { log, close } = await openLog(flags, env, io);
  try {
    const result = await log.run(sql, params);
    io.out(formatResult(result, format));
  } catch (error) {
    throw explainAwsError(error, env, 'the query');
  } finally {
    close();
  }
  return 0;
}

async function verifyLog(flags: Flags, env: CliEnvironment, io: CliIo): Promise<VerifyReport> {
  const bucket = requireName(env, flags.bucket, 'LogBucketName', 'bucket');
  const s3 = s3ClientFor(env);
  const anchor = checkpointAnchor(flags, env);
  try {
    io.err(
      `verifying ${bucket}${flags.from || flags.to ? ` from ${flags.from ?? 'start'} to ${flags.to ?? 'today'}` : ''}`,
    );
    const publicKey = await checkpointPublicKey(flags, env);
    return await new ProcessingLogVerifier(s3, bucket).verify({
      from: flags.from,
      to: flags.to,
      progress: io.err,
      publicKey,
      origin: flags.origin,
      anchor,
    });
  } catch (error) {
    throw explainAwsError(error, env, `log bucket ${bucket}`);
  } finally {
    s3.destroy();
    anchor?.s3.destroy();
  }
}

/** A keyed pseudonym as the log holds it (64 hex characters). */
const PSEUDONYM = /^[0-9a-f]{64}$/;

/** Runs `use` with the pseudonymizer of the environment's key (`--key`, or the stack's). */
async function withPseudonyms<T>(
  flags: Flags,
  env: CliEnvironment,
  use: (pseudonyms: Pseudonymizer) => Promise<T>,
): Promise<T> {
  const kms = kmsClientFor(env);
  try {
    const keyId = await resolvePseudonymKey(kms, env, flags.key);
    return await use(new Pseudonymizer(kms, keyId));
  } catch (error) {
    throw explainAwsError(error, env, 'the pseudonym key');
  } finally {
    kms.destroy();
  }
}

/**
 * Replaces each parameter that names a subject, request or hold by its pseudonym, unless it is one
 * already: the log holds only pseudonyms. An id needs `--tenant` (pseudonyms are per tenant).
 */
async function pseudonymizeParams(
  kinds: Readonly<Record<string, PseudonymKind>>,
  params: Record<string, string>,
  flags: Flags,
  env: CliEnvironment,
): Promise<void> {
  const clear = Object.keys(kinds).filter(
    (p) => params[p] !== undefined && !PSEUDONYM.test(params[p]),
  );
  if (clear.length === 0) return;
  const tenant = flags.tenant;
  if (!tenant)
    throw new CliError(
      `--param ${clear.join(', ')} is an id, not a pseudonym: give its --tenant (or the pseudonym)`,
    );
  await withPseudonyms(flags, env, async (pseudonyms) => {
    for (const p of clear) params[p] = await pseudonyms[kinds[p]!](tenant, params[p]!);
  });
}

async function pseudonym(positionals: string[], flags: Flags, io: CliIo): Promise<number> {
  const [kind, id] = flags.request
    ? (['request', flags.request] as const)
    : flags.hold
      ? (['hold', flags.hold] as const)
      : (['subject', positionals[0]] as const);
  if (!id || !flags.tenant)
    throw new CliError(
      'usage: privacy-ops pseudonym <subjectId> | --request <id> | --hold <id> --tenant <tenant> [--key <kms key>]',
    );
  const tenant = flags.tenant;
  const env = environmentOf(flags);
  io.out(await withPseudonyms(flags, env, (pseudonyms) => pseudonyms[kind](tenant, id)));
  return 0;
}

function register(flags: Flags, io: CliIo): number {
  const policyFile = flags.policy ?? DEFAULT_POLICY_FILE;
  const tenantsFile = flags.tenants ?? DEFAULT_TENANTS_FILE;
  const out = flags.out ?? '.';
  let built;
  try {
    built = buildRegister(policyFile, tenantsFile);
  } catch (error) {
    throw new CliError(
      `cannot build the register from ${policyFile} and ${tenantsFile}: ${(error as Error).message}`,
    );
  }
  mkdirSync(out, { recursive: true });
  const md = path.join(out, 'processing-register.md');
  const csv = path.join(out, 'processing-register.csv');
  const controllers = path.join(out, 'processing-register-controllers.csv');
  writeFileSync(md, registerMarkdown(built));
  writeFileSync(csv, registerCsv(built));
  writeFileSync(controllers, controllersCsv(built));
  io.err(
    `register of ${built.entries.length} processing activities for ${built.controllers.length} listed controller(s) from ${policyFile} and ${tenantsFile}`,
  );
  io.out(`${md}\n${csv}\n${controllers}`);
  return 0;
}

async function report(flags: Flags, io: CliIo): Promise<number> {
  const env = environmentOf(flags);
  const file = flags.out ?? 'compliance-report.html';
  const verified = flags['no-verify'] || flags.athena ? undefined : await verifyLog(flags, env, io);
  const { log, close } = await openLog(flags, env, io);
  try {
    io.err('running the report queries');
    const data = await collectReportData(log, env.source, {
      verify: verified,
      ...(flags.tenant ? { tenant: flags.tenant } : {}),
    });
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, renderReport(data));
    io.err(
      `report${data.tenant ? ` for ${data.tenant}` : ''}: ${data.requests.length} request(s), ${data.expiries.length} expiry group(s)`,
    );
    io.out(file);
  } finally {
    close();
  }
  return 0;
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parse(argv);
    } catch (error) {
      throw new CliError(`${(error as Error).message}\n\n${USAGE}`);
    }
    const { values: flags, positionals } = parsed;
    const [command, sub, ...rest] = positionals;
    if (flags.help || !command || command === 'help') {
      io.out(USAGE);
      return command || flags.help ? 0 : 2;
    }
    if (command === 'log' && sub === 'query') return await logQuery(rest, flags, io);
    if (command === 'log' && sub === 'queries') {
      for (const q of NAMED_QUERIES)
        io.out(
          `${q.name}${q.parameters ? ` (--param ${q.parameters.map((p) => `${p}=…`).join(' --param ')})` : ''}\n  ${q.description}`,
        );
      return 0;
    }
    if (command === 'log' && sub === 'checkpoint')
      return await takeCheckpoint(flags, environmentOf(flags), io);
    if (command === 'log' && sub === 'prove')
      return await proveRecords(flags, environmentOf(flags), io);
    if (command === 'log' && sub === 'check-proof') return checkProof(rest, flags, io);
    if (command === 'log' && sub === 'verify') {
      const result = await verifyLog(flags, environmentOf(flags), io);
      io.out(
        flags.format === 'json' ? JSON.stringify(result, null, 2) : formatVerifyReport(result),
      );
      return result.ok ? 0 : 1;
    }
    if (command === 'pseudonym') return await pseudonym(positionals.slice(1), flags, io);
    if (command === 'register') return register(flags, io);
    if (command === 'report') return await report(flags, io);
    if (command === 'retention') return await retentionCommand(sub, flags, io);
    if (command === 'dlq') return await dlqCommand(sub, rest, flags, io);
    throw new CliError(`unknown command "${positionals.join(' ')}"\n\n${USAGE}`);
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`privacy-ops: ${error.message}`);
      return 2;
    }
    io.err(`privacy-ops: ${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
