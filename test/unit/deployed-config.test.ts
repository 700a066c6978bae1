/**
 * A function bundle runs with the policy, instructions and producers the construct was given
 * (compiled in by esbuild's `define`, as PipelineFunction bundles), not with the package's own
 * config/ files; unbundled code keeps reading config/.
 */
import { buildSync } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEPLOYED_CONFIG_GLOBAL } from '../../shared/deployed-config';
import { bundledProducerRegistry } from '../../shared/intake/producer-registry';
import { defaultRetentionPolicy } from '../../shared/retention/policy';

const FIXTURE = path.join(__dirname, '..', 'support', 'fixtures', 'consumer-app');
const json = (file: string) => JSON.parse(readFileSync(path.join(FIXTURE, file), 'utf8'));

describe('configuration compiled into a bundle', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'privacy-ops-define-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is what the bundled code runs with', () => {
    // Prepare: an entry reading the policy and the registry the way the functions do
    const entry = path.join(dir, 'entry.ts');
    writeFileSync(
      entry,
      [
        `import { defaultRetentionPolicy } from ${JSON.stringify(path.join(__dirname, '../../shared/retention/policy'))};`,
        `import { bundledProducerRegistry } from ${JSON.stringify(path.join(__dirname, '../../shared/intake/producer-registry'))};`,
        'const policy = defaultRetentionPolicy({});',
        'export const categories = policy.categories.map((c) => c.id);',
        "export const leaseForAgency = policy.forTenant('agency-nord').controller?.name;",
        'export const producers = bundledProducerRegistry().producers.map((p) => p.name);',
      ].join('\n'),
    );
    const documents = {
      retentionPolicy: json('retention-policy.json'),
      tenants: json('tenants.json'),
      producers: json('producers.json'),
    };
    // Act
    const out = path.join(dir, 'bundle.js');
    buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: out,
      logLevel: 'silent',
      define: { [DEPLOYED_CONFIG_GLOBAL]: JSON.stringify(documents) },
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require(out);
    // Assess
    expect(bundled.categories).toEqual(['lease-agreement', 'tenant-screening-note']);
    expect(bundled.leaseForAgency).toBe('Agence Nord');
    expect(bundled.producers).toEqual(['lettings-portal']);
  });

  it('is absent from unbundled code, which reads config/', () => {
    // Act
    const categories = defaultRetentionPolicy({}).categories.map((c) => c.id);
    // Assess
    expect(categories).toContain('accounting-document');
    expect(categories).not.toContain('lease-agreement');
    expect(bundledProducerRegistry().producers.map((p) => p.name)).not.toContain('lettings-portal');
  });
});
