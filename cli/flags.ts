import { parseArgs } from 'node:util';
import { CliError, resolveEnvironment, type CliEnvironment } from './environment';
import type { OutputFormat } from './output';

/** Where the CLI writes: results to `out`, progress and errors to `err`. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** Every flag of every command (one parser: a flag means the same thing everywhere). */
export const OPTIONS = {
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
  request: { type: 'string' },
  hold: { type: 'string' },
  key: { type: 'string' },
  policy: { type: 'string' },
  tenants: { type: 'string' },
  out: { type: 'string' },
  'no-verify': { type: 'boolean' },
  'retention-table': { type: 'string' },
  'at-once': { type: 'boolean' },
  restart: { type: 'boolean' },
  'page-size': { type: 'string' },
  days: { type: 'string' },
  queue: { type: 'string' },
  'ingress-queue': { type: 'string' },
  reason: { type: 'string' },
  'dry-run': { type: 'boolean' },
  reveal: { type: 'boolean' },
  'public-key': { type: 'string' },
  'checkpoint-key': { type: 'string' },
  origin: { type: 'string' },
  'anchor-bucket': { type: 'string' },
  subject: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses the command line (strict: an unknown flag is an error). */
export function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** The flags of a command line. */
export type Flags = ReturnType<typeof parse>['values'];

/** `--param key=value` pairs as a record; refuses a pair without `=`. */
export function parseParams(values: readonly string[] = []): Record<string, string> {
  const params: Record<string, string> = {};
  for (const p of values) {
    const i = p.indexOf('=');
    if (i <= 0) throw new CliError(`--param expects key=value, got "${p}"`);
    params[p.slice(0, i)] = p.slice(i + 1);
  }
  return params;
}

/** `--format`: table (default), json or csv. */
export function outputFormat(flag: string | undefined): OutputFormat {
  const format = flag ?? 'table';
  if (format !== 'table' && format !== 'json' && format !== 'csv')
    throw new CliError(`--format must be table, json or csv (got ${format})`);
  return format;
}

/** A positive whole number flag, or its default; refuses anything else naming the flag. */
export function positiveInteger(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(`--${flag} must be a positive whole number (got ${value})`);
  return n;
}

/** The environment the flags select (local endpoint or deployed stack). */
export function environmentOf(flags: Flags): CliEnvironment {
  return resolveEnvironment({
    endpoint: flags.endpoint,
    region: flags.region,
    outputs: flags.outputs,
    deployed: flags.deployed || flags.athena,
  });
}
