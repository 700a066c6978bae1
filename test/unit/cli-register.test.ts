import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/main';

/** Runs the CLI in-process and captures its output. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('privacy-ops register: the Art. 30 register with each controller and its instructions', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'register-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const write = (name: string, content: unknown) => {
    const file = path.join(work, name);
    writeFileSync(file, JSON.stringify(content));
    return file;
  };

  it('lists every controller with its contact, the categories processed for it and its overrides', async () => {
    // Prepare
    const tenants = write('tenants.json', {
      version: 1,
      tenants: {
        'acme-sas': {
          controller: { name: 'ACME SAS', contact: 'dpo@acme.example' },
          fiscalYearEnd: '03-31',
          retention: { 'prospect-contact': 'P1Y', 'accounting-document': 'P12Y' },
        },
        'beta-gmbh': {
          controller: { name: 'Beta GmbH', contact: 'Datenschutz, Hauptstr. 1, Berlin' },
          timeZone: 'Europe/Berlin',
        },
      },
    });
    const out = path.join(work, 'register');
    // Act
    const result = await cli(['register', '--tenants', tenants, '--out', out]);
    // Assess
    expect(result.code).toBe(0);
    expect(result.err).toContain('for 2 listed controller(s)');
    const md = readFileSync(path.join(out, 'processing-register.md'), 'utf8');
    const csv = readFileSync(path.join(out, 'processing-register-controllers.csv'), 'utf8');
    expect(md).toContain('## Controllers on whose behalf the processor acts (GDPR Art. 30(2))');
    expect(md).toMatch(
      /\| `acme-sas` \| ACME SAS \| dpo@acme\.example \| 03-31 \| Europe\/Paris \| `accounting-document`: 12 years from the end of the fiscal year of the document's date; `prospect-contact`: 1 year from the end of the relationship \(account closure\) \|/,
    );
    expect(md).toContain(
      '| `beta-gmbh` | Beta GmbH | Datenschutz, Hauptstr. 1, Berlin | 12-31 | Europe/Berlin | policy defaults |',
    );
    expect(md).toContain(
      "- `prospect-contact` (Prospect contact data): 1 year from the end of the relationship (account closure); controller's instruction (policy default 3 years)",
    );
    expect(md).toMatch(
      /A tenant the file does not list is processed under the policy\s+defaults \(fiscal year end 12-31, time zone Europe\/Paris\)/,
    );
    expect(md).toContain('a controller may instruct 0 days to 3 years');
    const rows = csv.trim().split('\n');
    expect(rows[0]).toBe(
      'Tenant,Controller,Contact,Fiscal year end,Time zone,Data category,Retention,Source',
    );
    expect(rows).toHaveLength(1 + 2 * 9);
    expect(rows).toContain(
      'beta-gmbh,Beta GmbH,"Datenschutz, Hauptstr. 1, Berlin",12-31,Europe/Berlin,payroll-document,5 years from the document\'s date,policy default',
    );
  });

  it('refuses an instruction outside the legal bounds, naming the tenant and the category', async () => {
    // Prepare
    const tenants = write('bad.json', {
      version: 1,
      tenants: {
        'acme-sas': {
          controller: { name: 'ACME SAS', contact: 'dpo@acme.example' },
          retention: { 'prospect-contact': 'P5Y' },
        },
      },
    });
    // Act
    const result = await cli(['register', '--tenants', tenants, '--out', path.join(work, 'bad')]);
    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toContain(
      'tenant acme-sas, category prospect-contact: P5Y is longer than the legal maximum P3Y',
    );
  });

  it('says no controller is listed when the shipped file lists none', async () => {
    // Act
    const result = await cli(['register', '--out', path.join(work, 'shipped')]);
    // Assess
    expect(result.code).toBe(0);
    const md = readFileSync(path.join(work, 'shipped', 'processing-register.md'), 'utf8');
    expect(md).toContain('No controller is listed yet.');
  });
});
