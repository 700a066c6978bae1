import { App } from 'aws-cdk-lib';
import { buildApp, securityRulePacks } from '../../infra/app';

/** One unacknowledged finding of a security rule pack. */
export interface NagFinding {
  readonly pack: string;
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

/**
 * Synthesizes the app for `region` (bundling skipped, packs not registered) and runs the five
 * security rule packs on it directly, returning every finding no acknowledgement covers.
 */
export function unacknowledgedFindings(
  region = 'eu-west-3',
  context: Record<string, unknown> = {},
): NagFinding[] {
  const app = buildApp(
    new App({ context: { 'aws:cdk:bundling-stacks': [], region, ...context } }),
    { securityChecks: false },
  );
  app.synth(); // runs the aspects that record acknowledgements, as a real synthesis does
  const findings: NagFinding[] = [];
  for (const pack of securityRulePacks(new App())) {
    for (const violation of pack.validateScope(app).violations) {
      for (const resource of violation.violatingResources) {
        findings.push({
          pack: pack.readPackName,
          rule: violation.ruleName,
          severity: violation.severity ?? 'error',
          path: resource.constructPath ?? '?',
        });
      }
    }
  }
  return findings;
}

if (require.main === module) {
  const findings = unacknowledgedFindings(process.argv[2]);
  for (const f of findings) console.log(`${f.rule}\t${f.severity}\t${f.path}`);
  console.error(`${findings.length} unacknowledged findings`);
}
