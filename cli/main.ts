import { AthenaClient } from '@aws-sdk/client-athena';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { NAMED_QUERIES, namedQuery } from '../shared/processing-log/named-queries';
import {
  formatVerifyReport,
  ProcessingLogVerifier,
  type VerifyReport,
} from '../shared/processing-log/verify';
import { Pseudonymizer } from '../shared/pseudonym';
import { AthenaLog } from './athena-log';
import { DuckDbLog } from './duckdb-log';
import {
  CliError,
  type CliEnvironment,
  explainAwsError,
  kmsClientFor,
  requireName,
  resolveEnvironment,
  s3ClientFor,
} from './environment';
import { formatResult, type OutputFormat } from './output';
import { resolvePseudonymKey } from './pseudonym-key';
import { buildRegister, DEFAULT_POLICY_FILE, registerCsv, registerMarkdown } from './register';
import { collectReportData, type LogQueryRunner, renderReport } from './report';

/** Where the CLI writes: results to `out`, progress and errors to `err`. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const USAGE = `privacy-ops: the auditor's tools over the processing log

usage:
  privacy-ops log query <name> [--param key=value]... [--format table|json|csv]
  privacy-ops log query --sql "SELECT … FROM <table>" [--format …]
  privacy-ops log queries                       list the named queries
  privacy-ops log verify [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format json]
  privacy-ops pseudonym <subjectId> --tenant <tenant> [--key <kms key>]
  privacy-ops register [--policy ${DEFAULT_POLICY_FILE}] [--out <dir>]
  privacy-ops report [--out compliance-report.html] [--from …] [--to …] [--no-verify]

where the log is:
  locally (default when .local/outputs.json exists, written by npm start, or with --endpoint <url>):
    the log objects are fetched from the log bucket and queried on DuckDB (view named like the Glue table)
  on a deployed stack (--deployed, AWS default credentials): --bucket <LogBucketName>
    and, for queries, --athena --workgroup <AthenaWorkGroupName> --database <GlueDatabaseName> --table <GlueTableName>

common flags: --endpoint <url> --region <region> --outputs <file> --bucket <name> --table <name>`;

const OPTIONS = {
  param: { type: 'string', multiple: true },
  sql: { type: 'string' },
  format: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  athena: { type: 'boolean' },
  deployed: { type: 'boolean' },
  workgroup: { type: 'string' },
  database: { type: 'string' },
  table: { type: 'string' },
  bucket: { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  outputs: { type: 'string' },
  tenant: { type: 'string' },
  key: { type: 'string' },
  policy: { type: 'string' },
  out: { type: 'string' },
  'no-verify': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

function parseParams(values: readonly string[] = []): Record<string, string> {
  const params: Record<string, string> = {};
  for (const p of values) {
    const i = p.indexOf('=');
    if (i <= 0) throw new CliError(`--param expects key=value, got "${p}"`);
    params[p.slice(0, i)] = p.slice(i + 1);
  }
  return params;
}

function outputFormat(flag: string | undefined): OutputFormat {
  const format = flag ?? 'table';
  if (format !== 'table' && format !== 'json' && format !== 'csv')
    throw new CliError(`--format must be table, json or csv (got ${format})`);
  return format;
}

function environmentOf(flags: Flags): CliEnvironment {
  return resolveEnvironment({
    endpoint: flags.endpoint,
    region: flags.region,
    outputs: flags.outputs,
    deployed: flags.deployed || flags.athena,
  });
}

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
  try {
    io.err(
      `verifying ${bucket}${flags.from || flags.to ? ` from ${flags.from ?? 'start'} to ${flags.to ?? 'today'}` : ''}`,
    );
    return await new ProcessingLogVerifier(s3, bucket).verify({
      from: flags.from,
      to: flags.to,
      progress: io.err,
    });
  } catch (error) {
    throw explainAwsError(error, env, `log bucket ${bucket}`);
  } finally {
    s3.destroy();
  }
}

async function pseudonym(positionals: string[], flags: Flags, io: CliIo): Promise<number> {
  const subjectId = positionals[0];
  if (!subjectId || !flags.tenant)
    throw new CliError(
      'usage: privacy-ops pseudonym <subjectId> --tenant <tenant> [--key <kms key>]',
    );
  const env = environmentOf(flags);
  const kms = kmsClientFor(env);
  try {
    const keyId = await resolvePseudonymKey(kms, env, flags.key);
    io.out(await new Pseudonymizer(kms, keyId).subject(flags.tenant, subjectId));
    return 0;
  } catch (error) {
    throw explainAwsError(error, env, 'the pseudonym key');
  } finally {
    kms.destroy();
  }
}

function register(flags: Flags, io: CliIo): number {
  const policyFile = flags.policy ?? DEFAULT_POLICY_FILE;
  const out = flags.out ?? '.';
  let built;
  try {
    built = buildRegister(policyFile);
  } catch (error) {
    throw new CliError(`cannot build the register from ${policyFile}: ${(error as Error).message}`);
  }
  mkdirSync(out, { recursive: true });
  const md = path.join(out, 'processing-register.md');
  const csv = path.join(out, 'processing-register.csv');
  writeFileSync(md, registerMarkdown(built));
  writeFileSync(csv, registerCsv(built));
  io.err(`register of ${built.entries.length} processing activities from ${policyFile}`);
  io.out(`${md}\n${csv}`);
  return 0;
}

async function report(flags: Flags, io: CliIo): Promise<number> {
  const env = environmentOf(flags);
  const file = flags.out ?? 'compliance-report.html';
  const verified = flags['no-verify'] || flags.athena ? undefined : await verifyLog(flags, env, io);
  const { log, close } = await openLog(flags, env, io);
  try {
    io.err('running the report queries');
    const data = await collectReportData(log, env.source, verified);
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, renderReport(data));
    io.err(`report: ${data.requests.length} request(s), ${data.expiries.length} expiry group(s)`);
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
