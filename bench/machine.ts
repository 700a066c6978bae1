import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, round } from './settings';

/** The machine the benchmark runs on: CPU, cores, memory, load, Node.js and moto versions. */
export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model =
    /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  let nproc = os.cpus().length;
  try {
    nproc = Number(execFileSync('nproc').toString().trim());
  } catch {
    // os.cpus() it is
  }
  const moto = (() => {
    try {
      return execFileSync(path.join(ROOT, '.local/venv/bin/python'), [
        '-c',
        'import moto; print(moto.__version__)',
      ])
        .toString()
        .trim();
    } catch {
      return 'see local/endpoint.ts';
    }
  })();
  return {
    nproc,
    cpu: model,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
    node: process.version,
    moto,
    date: new Date().toISOString(),
  };
}
