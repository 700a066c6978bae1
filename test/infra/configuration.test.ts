import { App } from 'aws-cdk-lib';
import { buildApp } from '../../infra/app';
import { loadDeploymentConfig, parseAlarmEmails } from '../../infra/config';

const build = (context: Record<string, unknown>) => () =>
  buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }));

describe('invalid configuration is rejected before any construct is built', () => {
  it.each([0, -1, 1.5, 'ten', 36501])('logRetentionDays %p', (value) => {
    expect(build({ logRetentionDays: value })).toThrow(/logRetentionDays must be a whole number/);
  });

  it.each([0, 10, 'forever', 4000])('functionLogRetentionDays %p', (value) => {
    expect(build({ functionLogRetentionDays: value })).toThrow(
      /functionLogRetentionDays must be one of the retention periods CloudWatch Logs accepts/,
    );
  });

  it.each(['ops', 'ops@example', 'ops@example.eu;dpo@example.eu', 42])('alarmEmail %p', (value) => {
    expect(build({ alarmEmail: value })).toThrow(/alarmEmail must be an e-mail address/);
  });

  it('reads defaults and lists', () => {
    const config = loadDeploymentConfig(() => undefined, {});
    expect(config).toEqual({
      region: 'eu-west-3',
      logRetentionDays: 3653,
      functionLogRetentionDays: 365,
      alarmEmails: [],
    });
    expect(parseAlarmEmails('a@b.eu, c@d.eu')).toEqual(['a@b.eu', 'c@d.eu']);
    expect(parseAlarmEmails(['a@b.eu'])).toEqual(['a@b.eu']);
  });
});
