import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Period } from '../shared/retention/schedule';
import {
  loadRetentionPolicy,
  type RetentionCategory,
  type RetentionPolicy,
} from '../shared/retention/policy';
import { csvField } from './output';

/** The policy file the functions are built with. */
export const DEFAULT_POLICY_FILE = 'config/retention-policy.json';

/** One entry of the GDPR Art. 30 record of processing activities. */
export interface RegisterEntry {
  readonly activity: string;
  readonly category: string;
  readonly purpose: string;
  readonly legalBasis: string;
  readonly sensitive: string;
  readonly retention: string;
  readonly erasure: string;
  readonly recipients: string;
  readonly transfers: string;
  readonly security: string;
}

/** The register with what identifies the policy it was generated from. */
export interface ProcessingRegister {
  readonly policyFile: string;
  readonly policySha256: string;
  readonly generatedAt: string;
  readonly entries: readonly RegisterEntry[];
}

const ANCHORS: Record<RetentionCategory['anchor'], string> = {
  'document-date': "the document's date",
  'fiscal-year-end': "the end of the fiscal year of the document's date",
  'relationship-end': 'the end of the relationship (account closure)',
};

/** "10 years", "1 year 6 months", "30 days". */
export function describePeriod(p: Period): string {
  const parts = [
    [p.years, 'year'],
    [p.months, 'month'],
    [p.days, 'day'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, unit]) => `${n} ${unit}${n === 1 ? '' : 's'}`);
  return parts.join(' ') || '0 days';
}

const SECURITY =
  'KMS encryption at rest (per-tenant wrapping keys, per-subject data keys), TLS only, least-privilege IAM per function, subjects pseudonymised (KMS HMAC) in logs, immutable processing log (S3 Object Lock, compliance mode)';

/** The register entry of one category of the policy. */
export function registerEntry(c: RetentionCategory): RegisterEntry {
  const retention = c.duration
    ? `${describePeriod(c.duration)} from ${ANCHORS[c.anchor]}`
    : `nothing kept after closure: deleted ${describePeriod(c.graceAfterClosure ?? { years: 0, months: 0, days: 0 })} after ${ANCHORS[c.anchor]}`;
  const erasure =
    c.erasure === 'delete'
      ? 'deleted at once on an erasure request'
      : `restricted on an erasure request (Art. ${c.restrictionGround ?? '17(3)'}), deleted when the retention ends`;
  return {
    activity: c.description,
    category: c.id,
    purpose: c.purpose,
    legalBasis: c.legalBasis,
    sensitive: c.sensitive ? 'yes (Art. 9: isolated under its own key)' : 'no',
    retention,
    erasure,
    recipients:
      'the controller (the tenant); the controller on an access or portability request; AWS as sub-processor (hosting)',
    transfers: 'none outside the EU (AWS eu-west-3 Paris or eu-west-1 Dublin only)',
    security: SECURITY,
  };
}

/**
 * Builds the Art. 30 register from the retention policy file, the same file the functions
 * enforce, so the two cannot disagree; the register names the file and its SHA-256.
 */
export function buildRegister(
  policyFile: string = DEFAULT_POLICY_FILE,
  now: Date = new Date(),
  load: (file: string) => RetentionPolicy = loadRetentionPolicy,
): ProcessingRegister {
  const bytes = readFileSync(policyFile);
  const policy = load(policyFile);
  return {
    policyFile,
    policySha256: createHash('sha256').update(bytes).digest('hex'),
    generatedAt: now.toISOString(),
    entries: policy.categories.map(registerEntry),
  };
}

const COLUMNS: ReadonlyArray<[keyof RegisterEntry, string]> = [
  ['activity', 'Processing activity'],
  ['category', 'Data category'],
  ['purpose', 'Purpose'],
  ['legalBasis', 'Legal basis'],
  ['sensitive', 'Special category'],
  ['retention', 'Retention'],
  ['erasure', 'On erasure request'],
  ['recipients', 'Recipients'],
  ['transfers', 'Transfers outside the EU'],
  ['security', 'Security measures'],
];

/** The register as CSV: one row per processing activity. */
export function registerCsv(register: ProcessingRegister): string {
  return (
    [
      COLUMNS.map(([, title]) => csvField(title)).join(','),
      ...register.entries.map((e) => COLUMNS.map(([k]) => csvField(e[k])).join(',')),
    ].join('\n') + '\n'
  );
}

/** The register as Markdown: a summary table, then one section per activity. */
export function registerMarkdown(register: ProcessingRegister): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '# Record of processing activities (GDPR Art. 30)',
    '',
    `Generated ${register.generatedAt} by \`privacy-ops register\` from \`${register.policyFile}\``,
    `(SHA-256 \`${register.policySha256}\`), the retention policy the pipeline enforces.`,
    '',
    'Processor: the privacy-ops operator, processing on behalf of each tenant (the controller) named',
    'in every event. Security measures for every activity: ' + SECURITY + '.',
    '',
    '| Data category | Purpose | Legal basis | Retention | On erasure request | Special category |',
    '|---|---|---|---|---|---|',
    ...register.entries.map(
      (e) =>
        `| \`${e.category}\` | ${cell(e.purpose)} | ${cell(e.legalBasis)} | ${cell(e.retention)} | ${cell(e.erasure)} | ${cell(e.sensitive)} |`,
    ),
    '',
  ];
  for (const e of register.entries) {
    lines.push(`## ${e.activity} (\`${e.category}\`)`, '');
    for (const [k, title] of COLUMNS) if (k !== 'activity') lines.push(`- **${title}:** ${e[k]}`);
    lines.push('');
  }
  return lines.join('\n');
}
