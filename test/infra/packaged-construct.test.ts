/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation is untyped JSON */
/**
 * The package as an operator installs it: `npm pack` (which compiles the construct), the tarball
 * unpacked into a separate CDK app (test/support/fixtures/consumer-app) that brings its own
 * retention policy, instructions and producers, compiled against the package's types and
 * synthesized with its functions bundled and the five security rule packs; and its CLI, run from
 * the installed package as npm links it. Only the dependencies the package declares are installed.
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
 * node_modules/privacy-ops, exactly what npm would place there, and beside it, as npm would hoist
 * them, only the packages its manifest declares as dependencies, and the app's own type
 * definitions of Node.js: a package the code requires without declaring it is not found, as in an
 * operator's install. They are linked from the repository's node_modules (`npm install` would
 * fetch the metadata of every dependency from the registry); their own dependencies resolve there.
 */
function installPackedPackage(): void {
  run('npm', ['pack', '--silent', '--pack-destination', work], REPO);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack wrote no tarball');
  cpSync(FIXTURE, app, { recursive: true });
  const installed = path.join(app, 'node_modules', 'privacy-ops');
  mkdirSync(installed, { recursive: true });
  run('tar', ['-xzf', path.join(work, tarball), '-C', installed, '--strip-components=1'], app);
  const { dependencies = {} } = JSON.parse(
    readFileSync(path.join(installed, 'package.json'), 'utf8'),
  );
  for (const name of [...Object.keys(dependencies), '@types/node']) {
    const link = path.join(app, 'node_modules', name);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(path.join(REPO, 'node_modules', name), link, 'dir');
  }
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

describe('the privacy-ops CLI, installed from the package', () => {
  const installed = () => path.join(app, 'node_modules', 'privacy-ops');
  const manifest = () => JSON.parse(readFileSync(path.join(installed(), 'package.json'), 'utf8'));
  /** Runs the CLI as npm links it: the file the package's `bin` names, in the app's directory. */
  const cli = (...args: string[]) =>
    run(process.execPath, [path.join(installed(), manifest().bin['privacy-ops']), ...args], app);

  it(
    'prints its usage',
    () => {
      // Act
      const output = cli('--help');
      // Assess
      expect(output).toContain('privacy-ops log verify');
      expect(output).toContain('privacy-ops register');
    },
    SLOW,
  );

  it(
    "writes the processing register of the app's own policy and tenants, without AWS",
    () => {
      // Act
      cli(
        'register',
        '--policy',
        'retention-policy.json',
        '--tenants',
        'tenants.json',
        '--out',
        'register',
      );
      // Assess
      const register = readFileSync(path.join(app, 'register', 'processing-register.md'), 'utf8');
      expect(register).toContain('tenant-screening-note');
      expect(register).toContain('Agence Nord');
    },
    SLOW,
  );
});
