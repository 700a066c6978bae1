/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation is untyped JSON */
/**
 * The package as an operator installs it: `npm pack` (which compiles the construct), the tarball
 * unpacked into a separate CDK app (test/support/fixtures/consumer-app) that brings its own
 * retention policy, instructions and producers, compiled against the package's types and
 * synthesized with its functions bundled and the five security rule packs.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const REPO = path.join(__dirname, '..', '..');
const FIXTURE = path.join(REPO, 'test', 'support', 'fixtures', 'consumer-app');
const SLOW = 300_000;

let work: string;
let app: string;

/** A command that exited non-zero, with what it printed. */
class CommandFailedError extends Error {
  constructor(
    readonly command: string,
    readonly output: string,
  ) {
    super(`${command} failed:\n${output}`);
    this.name = 'CommandFailedError';
  }
}

/** Runs `command` in `cwd`; a non-zero exit throws a {@link CommandFailedError} with its output. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: 'pipe',
      env: { ...process.env, CDK_DEFAULT_REGION: '', AWS_REGION: '', ...env },
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new CommandFailedError([command, ...args].join(' '), `${stdout}${stderr}`);
  }
}

/** Runs `command` expecting it to fail; returns what it printed. */
function failureOf(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  try {
    run(command, args, cwd, env);
  } catch (error) {
    if (error instanceof CommandFailedError) return error.output;
    throw error;
  }
  throw new Error(`${command} ${args.join(' ')} succeeded`);
}

/**
 * Packs the repository and installs the tarball into a new app: its content unpacked as
 * node_modules/privacy-ops, exactly what npm would place there. Its dependencies are the
 * repository's own (a node_modules one level up, linked): `npm install` would fetch the metadata
 * of every dependency from the registry, and a file missing from the tarball fails all the same.
 */
function installPackedPackage(): void {
  run('npm', ['pack', '--silent', '--pack-destination', work], REPO);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack wrote no tarball');
  symlinkSync(path.join(REPO, 'node_modules'), path.join(work, 'node_modules'), 'dir');
  cpSync(FIXTURE, app, { recursive: true });
  const installed = path.join(app, 'node_modules', 'privacy-ops');
  mkdirSync(installed, { recursive: true });
  run('tar', ['-xzf', path.join(work, tarball), '-C', installed, '--strip-components=1'], app);
  const manifest = { name: 'lettings-privacy', version: '1.0.0', private: true };
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ ...manifest, dependencies: { 'privacy-ops': `file:../${tarball}` } }),
  );
  // NodejsFunction finds the app's root by its lock file, as in any npm project.
  writeFileSync(
    path.join(app, 'package-lock.json'),
    JSON.stringify({ ...manifest, lockfileVersion: 3, packages: {} }),
  );
}

beforeAll(() => {
  // Prepare: the package packed and installed in an app of its own, compiled against its types
  work = mkdtempSync(path.join(tmpdir(), 'privacy-ops-consumer-'));
  app = path.join(work, 'app');
  installPackedPackage();
  run(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc')], app);
}, SLOW);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('PrivacyOpsPipeline, packed and imported by a CDK app of its own', () => {
  it(
    'synthesizes with its own policy and producers, its functions bundled, nothing left unacknowledged',
    () => {
      // Act
      run(process.execPath, ['app.js'], app, { CONSUMER_REGION: 'eu-west-1' });
      // Assess: no finding of the five packs, errors or warnings
      const findings = JSON.parse(readFileSync(path.join(app, 'findings.json'), 'utf8'));
      expect(findings).toEqual([]);
      // Assess: the stack is in the EU region asked, and the ingress admits the app's producer
      const out = path.join(app, 'cdk.out');
      const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
      expect(manifest.artifacts.LettingsPrivacy.environment).toBe('aws://123456789012/eu-west-1');
      const template = JSON.parse(
        readFileSync(path.join(out, 'LettingsPrivacy.template.json'), 'utf8'),
      );
      const policies = Object.values<any>(template.Resources).filter(
        (r) => r.Type === 'AWS::SQS::QueuePolicy',
      );
      expect(JSON.stringify(policies)).toContain('arn:aws:iam::123456789012:role/lettings-portal');
      // Assess: every function bundled from the package's sources, with the app's policy in it
      const bundles = readdirSync(out)
        .filter((d) => d.startsWith('asset.'))
        .map((d) => path.join(out, d, 'index.js'))
        .filter((f) => {
          try {
            return readFileSync(f).length > 0;
          } catch {
            return false;
          }
        });
      const functions = Object.values<any>(template.Resources).filter(
        (r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['privacy-ops:entry'],
      );
      expect(bundles.length).toBeGreaterThanOrEqual(functions.length);
      expect(functions.length).toBeGreaterThan(0);
      const withPolicy = bundles.filter((f) =>
        readFileSync(f, 'utf8').includes('tenant-screening-note'),
      );
      expect(withPolicy.length).toBeGreaterThan(0);
    },
    SLOW,
  );

  it(
    'refuses a region outside the EU when the app synthesizes',
    () => {
      // Act
      const output = failureOf(process.execPath, ['app.js'], app, { CONSUMER_REGION: 'us-east-1' });
      // Assess
      expect(output).toMatch(/us-east-1.*not allowed/);
      expect(output).toMatch(/eu-west-3.*eu-west-1/);
    },
    SLOW,
  );
});
