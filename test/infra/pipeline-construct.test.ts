/** PrivacyOpsPipeline refuses, before building anything, what would take data out of the EU or is invalid. */
import { App, Stack } from 'aws-cdk-lib';
import * as path from 'node:path';
import { PrivacyOpsPipeline, type PrivacyOpsPipelineProps } from '../../infra';

const FIXTURE = path.join(__dirname, '..', 'support', 'fixtures', 'consumer-app');

const build =
  (region: string | undefined, props: PrivacyOpsPipelineProps = {}) =>
  () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Privacy', { env: region ? { region } : undefined });
    return new PrivacyOpsPipeline(stack, 'Pipeline', props);
  };

describe('PrivacyOpsPipeline refuses its props at synthesis', () => {
  it.each(['us-east-1', 'eu-central-1'])('a stack in %s', (region) => {
    expect(build(region)).toThrow(
      new RegExp(
        `Region "${region}" \\(from stack Privacy\\) is not allowed.*eu-west-3.*eu-west-1`,
      ),
    );
  });

  it('an environment-agnostic stack, whose region is known only at deployment', () => {
    expect(build(undefined)).toThrow(/stack Privacy has no region/);
  });

  it('a region prop outside the EU, or other than the stack’s', () => {
    expect(build('eu-west-1', { region: 'us-west-2' })).toThrow(/"us-west-2".*is not allowed/);
    expect(build('eu-west-1', { region: 'eu-west-3' })).toThrow(
      /prop "region" is eu-west-3 but stack Privacy is in eu-west-1/,
    );
  });

  it('an invalid setting, policy entry, instruction or producer, naming it', () => {
    expect(build('eu-west-3', { logRetentionDays: 0 })).toThrow(/logRetentionDays must be/);
    expect(build('eu-west-3', { alarmEmails: ['ops'] })).toThrow(/alarmEmail must be/);
    expect(build('eu-west-3', { scaling: { intake: { maxConcurrency: 1 } } })).toThrow(
      /scaling.intake.maxConcurrency must be 2-1000/,
    );
    const policy = path.join(FIXTURE, 'retention-policy.json');
    expect(
      build('eu-west-3', {
        retentionPolicy: policy,
        tenantInstructions: {
          version: 1,
          tenants: {
            'agency-nord': {
              controller: { name: 'Agence Nord', contact: 'dpo@agence-nord.example' },
              retention: { 'lease-agreement': 'P2Y' },
            },
          },
        },
      }),
    ).toThrow(/agency-nord.*lease-agreement/);
    expect(build('eu-west-3', { producers: { version: 1, producers: { bad: {} } } })).toThrow(
      /producers\.bad\.principal/,
    );
  });

  it('builds in eu-west-1 with the package defaults', () => {
    const pipeline = build('eu-west-1')();
    expect(pipeline.config.region).toBe('eu-west-1');
    expect(pipeline.anchorRegion).toBe('eu-west-3');
  });
});
