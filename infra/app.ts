import { App, Validations } from 'aws-cdk-lib';
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  NIST80053R5Checks,
  NagPack,
  PCIDSS321Checks,
  ServerlessChecks,
} from 'cdk-nag';
import { loadDeploymentConfig, partnerRegion } from './config';
import { CheckpointAnchorStack } from './stacks/checkpoint-anchor-stack';
import { PrivacyOpsStack } from './stacks/privacy-ops-stack';
import type { ProducerRegistry } from '../shared/intake/producer-registry';

/**
 * The five security rule packs every synthesis runs (cdk-nag v3). Any finding that is not
 * acknowledged on the construct it concerns fails synthesis: `cdk synth` exits non-zero, an
 * in-process `app.synth()` throws with the report.
 */
export function securityRulePacks(app: App): NagPack[] {
  return [
    new AwsSolutionsChecks(app, { verbose: true }),
    new HIPAASecurityChecks(app, { verbose: true }),
    new NIST80053R5Checks(app, { verbose: true }),
    new PCIDSS321Checks(app, { verbose: true }),
    new ServerlessChecks(app, { verbose: true }),
  ];
}

/**
 * Builds the CDK app: the privacy-ops stack in the configured EU region and the anchor of its
 * checkpoints in the other region of the EU pair (deployed first), checked by the five
 * security rule packs on every synthesis (`securityChecks: false` only for tooling that runs
 * the packs itself, e.g. to list findings). The producers admitted are config/producers.json's
 * (the file bundled into the intake) unless a test gives others.
 */
export function buildApp(
  app: App = new App(),
  options: { readonly securityChecks?: boolean; readonly producers?: ProducerRegistry } = {},
): App {
  const config = loadDeploymentConfig((key) => app.node.tryGetContext(key));
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const anchor = new CheckpointAnchorStack(app, 'PrivacyOpsAnchor', {
    env: { region: partnerRegion(config.region), account },
    retentionDays: config.logRetentionDays,
    description: 'privacy-ops: the EU anchor of the processing log checkpoints (replica)',
  });
  const pipeline = new PrivacyOpsStack(app, 'PrivacyOps', {
    env: { region: config.region, account },
    config,
    producers: options.producers,
    description: 'privacy-ops: GDPR retention, erasure, export and processing log (EU only)',
  });
  pipeline.addStackDependency(anchor, 'the log bucket replicates its checkpoints to the anchor');
  if (options.securityChecks ?? true) Validations.of(app).addPlugins(...securityRulePacks(app));
  return app;
}

if (require.main === module) {
  try {
    buildApp().synth();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
