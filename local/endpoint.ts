import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

/** A running local AWS endpoint (moto server) on a loopback port. */
export interface LocalEndpoint {
  readonly url: string;
  readonly port: number;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

/** Raised when no moto server can be found or installed, or when it does not answer. */
export class LocalEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalEndpointError';
  }
}

const PROJECT_ROOT = path.resolve(__dirname, '..');
const VENV = path.join(PROJECT_ROOT, '.local', 'venv');

/** Finds a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function commandWorks(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 60_000 });
  return result.status === 0;
}

/**
 * moto's server with each DynamoDB request applied atomically, as DynamoDB does (see the script:
 * moto's own server lets a refused transaction undo other requests' writes).
 */
const ATOMIC_SERVER = path.join(PROJECT_ROOT, 'local', 'moto_server_atomic.py');

/** The Python interpreter the machine's `moto_server` script names on its first line, if any. */
function motoServerInterpreter(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  const file = found.status === 0 ? found.stdout.trim() : '';
  if (!file || !existsSync(file)) return undefined;
  const first = readFileSync(file, 'utf8').split('\n', 1)[0];
  const python = /^#!\s*(\S*python[0-9.]*)\s*$/.exec(first)?.[1];
  return python && commandWorks(python, ['-c', 'import moto.server']) ? python : undefined;
}

/**
 * Finds how to start moto: `MOTO_SERVER` if set (run as it is); else a Python that has moto (the
 * project's own virtualenv, `python3`, the interpreter of the machine's `moto_server`) running
 * {@link ATOMIC_SERVER}; otherwise installs `moto[server]` into `.local/venv`.
 */
export function resolveMotoCommand(log: (line: string) => void = () => undefined): {
  command: string;
  args: string[];
} {
  if (process.env.MOTO_SERVER) return { command: process.env.MOTO_SERVER, args: [] };
  const venvPython = path.join(VENV, 'bin', 'python');
  const atomic = (python: string) => ({ command: python, args: [ATOMIC_SERVER] });
  if (existsSync(path.join(VENV, 'bin', 'moto_server'))) return atomic(venvPython);
  if (commandWorks('python3', ['-c', 'import moto.server'])) return atomic('python3');
  const machines = motoServerInterpreter();
  if (machines) return atomic(machines);
  log('moto not found: installing moto[server] into .local/venv (needs Python 3 and PyPI)');
  mkdirSync(path.dirname(VENV), { recursive: true });
  if (!commandWorks('python3', ['-m', 'venv', VENV])) {
    throw new LocalEndpointError(
      'Cannot create .local/venv: install Python 3 (with venv) or moto ("pip install \'moto[server]\'")',
    );
  }
  const pip = spawnSync(
    path.join(VENV, 'bin', 'pip'),
    ['install', '--quiet', 'moto[server]==5.2.1'],
    { stdio: 'inherit' },
  );
  if (pip.status !== 0 || !existsSync(path.join(VENV, 'bin', 'moto_server'))) {
    throw new LocalEndpointError(
      'Installing moto[server] failed: install it by hand with pip install "moto[server]"',
    );
  }
  return atomic(venvPython);
}

async function waitUntilAnswering(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new LocalEndpointError(`moto server exited before answering on ${url}`);
    try {
      const response = await fetch(`${url}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new LocalEndpointError(`moto server did not answer on ${url} within ${timeoutMs} ms`);
}

/** Starts moto on a free loopback port and waits until it answers. */
export async function startLocalEndpoint(
  options: { log?: (line: string) => void; timeoutMs?: number } = {},
): Promise<LocalEndpoint> {
  const log = options.log ?? (() => undefined);
  const { command, args } = resolveMotoCommand(log);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(command, [...args, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: false,
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    await waitUntilAnswering(url, child, options.timeoutMs ?? 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new LocalEndpointError(`${(error as Error).message}\n${stderr}`);
  }
  log(`local AWS endpoint (moto) answering on ${url} (pid ${child.pid})`);
  return {
    url,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
