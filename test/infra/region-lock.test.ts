import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import { WIRE_CONTRACT_OUTPUTS } from './stack-template';

function synth(context: Record<string, unknown>): Template {
  const app = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }));
  const stack = app.node.findChild('PrivacyOps') as import('aws-cdk-lib').Stack;
  return Template.fromStack(stack);
}

describe('region lock: only eu-west-3 or eu-west-1', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('synthesizes for eu-west-3 by default', () => {
    // Prepare
    delete process.env.CDK_DEFAULT_REGION;
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    // Act
    const app = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    // Assess
    const stack = app.node.findChild('PrivacyOps') as import('aws-cdk-lib').Stack;
    expect(stack.region).toBe('eu-west-3');
  });

  it('synthesizes for eu-west-1 with -c region=eu-west-1', () => {
    const app = buildApp(
      new App({ context: { 'aws:cdk:bundling-stacks': [], region: 'eu-west-1' } }),
    );
    const stack = app.node.findChild('PrivacyOps') as import('aws-cdk-lib').Stack;
    expect(stack.region).toBe('eu-west-1');
  });

  it.each(['us-east-1', 'eu-central-1', 'eu-west-2', ''])(
    'refuses region %p from context, naming both allowed regions',
    (region) => {
      const build = () =>
        buildApp(
          new App({ context: { 'aws:cdk:bundling-stacks': [], region: region || 'us-east-1' } }),
        );
      expect(build).toThrow(/eu-west-3.*eu-west-1/);
    },
  );

  it('refuses a non-EU region coming from the environment', () => {
    process.env.CDK_DEFAULT_REGION = 'us-west-2';
    expect(() => buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }))).toThrow(
      /us-west-2.*eu-west-3.*eu-west-1/,
    );
  });

  it('declares the stack outputs of the wire contract', () => {
    const template = synth({});
    const outputs = Object.keys(template.toJSON().Outputs ?? {});
    for (const name of WIRE_CONTRACT_OUTPUTS) {
      expect(outputs).toContain(name);
    }
  });

  it('locks the processing log in COMPLIANCE mode for ten years by default', () => {
    synth({}).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3653 } },
      },
    });
  });
});
