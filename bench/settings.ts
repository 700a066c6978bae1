import * as path from 'node:path';

// The benchmark's knobs (environment) and the small helpers every benchmark family uses.

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..');
/** Bundles are built under .local (ignored by git, eslint and prettier). */
export const OUT = path.join(ROOT, '.local', 'bench');
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
/** Steady-state events per type. */
export const STEADY = env('BENCH_EVENTS', 200);
/** Events of the cold phase per type. */
export const WARMUP = env('BENCH_WARMUP', 20);
/** Events of the intake throughput run. */
export const INTAKE_EVENTS = env('BENCH_INTAKE_EVENTS', 1000);
/** Module initialisations timed per bundle. */
export const INIT_RUNS = env('BENCH_INIT_RUNS', 5);
/** Documents per erasure run. */
export const ERASURE_SIZES = (process.env.BENCH_ERASURE_SIZES ?? '1,100,10000')
  .split(',')
  .map(Number);
/** Assumed round trip of one AWS API call from Lambda in-region, for the modelled duration. */
export const AWS_CALL_MS = 10;

/** Prints a line of the report. */
export const log = (line = '') => process.stdout.write(`${line}\n`);
/** Rounds to `digits` decimals. */
export const round = (n: number, digits = 3) => Number(n.toFixed(digits));
