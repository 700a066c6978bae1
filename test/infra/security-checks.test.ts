import { App } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { buildApp } from '../../infra/app';
import type { PrivacyOpsStack } from '../../infra/stacks/privacy-ops-stack';
import { unacknowledgedFindings } from './nag-report';

describe('security rule packs (AwsSolutions, HIPAA, NIST 800-53 r5, PCI DSS 3.2.1, Serverless)', () => {
  it.each(['eu-west-3', 'eu-west-1'])('report nothing unacknowledged in %s', (region) => {
    // Act
    const findings = unacknowledgedFindings(region, { alarmEmail: 'ops@example.eu' });
    // Assess
    expect(findings).toEqual([]);
  });

  it('run on synthesis and fail it on an unacknowledged finding', () => {
    // Prepare: a wildcard grant no acknowledgement covers
    const app = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    const stack = app.node.findChild('PrivacyOps') as PrivacyOpsStack;
    const role = stack.pipeline.node.findChild('Intake').node.findChild('Role') as iam.Role;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    // Act / Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);
  });
});
