import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

describe('npx privacy-ops (package.json bin)', () => {
  const run = (args: string[]) =>
    spawnSync('npx', ['--no-install', 'privacy-ops', ...args], {
      cwd: path.resolve(__dirname, '..', '..'),
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('lists the named queries', () => {
    // Act
    const result = run(['log', 'queries']);
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('operations-by-subject (--param subject=…)');
  });

  it('exits 2 with what to do when the local endpoint is not running', () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-bin-'));
    const outputs = path.join(dir, 'outputs.json');
    writeFileSync(
      outputs,
      JSON.stringify({ endpoint: 'http://127.0.0.1:9', LogBucketName: 'log' }),
    );
    // Act
    const result = run(['log', 'query', 'rejected-events', '--outputs', outputs]);
    rmSync(dir, { recursive: true, force: true });
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no local endpoint at http://127.0.0.1:9');
    expect(result.stderr).toContain('run npm start');
  });
});
