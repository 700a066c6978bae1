import { App } from 'aws-cdk-lib';
import { loadDeploymentConfig } from './config';
import { PrivacyOpsStack } from './stacks/privacy-ops-stack';

/** Builds the CDK app: one privacy-ops stack in the configured EU region. */
export function buildApp(app: App = new App()): App {
  const config = loadDeploymentConfig((key) => app.node.tryGetContext(key));
  new PrivacyOpsStack(app, 'PrivacyOps', {
    env: { region: config.region, account: process.env.CDK_DEFAULT_ACCOUNT },
    config,
    description: 'privacy-ops: GDPR retention, erasure, export and processing log (EU only)',
  });
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
