/** The stack keeps its promises on processing: queues and functions, least privilege and region lock, alarms, outputs. */
/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation is untyped JSON */
import { Match } from 'aws-cdk-lib/assertions';
import { RESOURCE_STAR_ACTIONS } from '../../infra/constructs/function-role';
import { ENTRY_METADATA_KEY } from '../../infra/constructs/pipeline-function';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SWEEP_METRICS } from '../../shared/operations/sweep-metrics';
import { sweepMetrics } from '../../shared/operations/retention-sweep';
import { resources, statements, template, WIRE_CONTRACT_OUTPUTS } from './stack-template';

describe('queues and functions', () => {
  it('redrives after at least 5 receives with visibility ≥ 6 × the consumer timeout', () => {
    const t = template();
    const functions = Object.values(resources('AWS::Lambda::Function', t));
    const timeouts = functions.map((f) => f.Properties!.Timeout as number);
    for (const queue of Object.values(resources('AWS::SQS::Queue', t))) {
      const redrive = queue.Properties!.RedrivePolicy;
      if (!redrive) continue;
      expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
      expect(queue.Properties!.VisibilityTimeout).toBeGreaterThanOrEqual(6 * 30);
    }
    expect(Math.min(...timeouts)).toBe(30);
  });

  it('runs every function on arm64 and Node.js 24 with active tracing and reserved concurrency', () => {
    const functions = Object.values(resources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(9);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        ReservedConcurrentExecutions: expect.any(Number),
      });
    }
  });

  it('reports partial batch failures with a batching window on every SQS mapping', () => {
    const mappings = Object.values(resources('AWS::Lambda::EventSourceMapping'));
    const sqsMappings = mappings.filter((m) => !m.Properties!.StartingPosition);
    expect(sqsMappings).toHaveLength(6);
    for (const m of sqsMappings) {
      expect(m.Properties).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumBatchingWindowInSeconds: expect.any(Number),
      });
    }
  });

  it('filters the stream mapping to TTL deletions and sends failed batches to a queue', () => {
    template().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      FilterCriteria: {
        Filters: [{ Pattern: Match.stringLikeRegexp('dynamodb\\.amazonaws\\.com') }],
      },
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('runs the sweeper hourly with a dead-letter queue', () => {
    template().hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } })],
    });
  });
});

describe('least privilege and region lock', () => {
  it.each(['eu-west-3', 'eu-west-1'])(
    'denies every other region to every function role (%s)',
    (region) => {
      const t = template(region);
      const roles = Object.entries(resources('AWS::IAM::Role', t)).filter(([, r]) =>
        JSON.stringify(r.Properties!.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
      );
      expect(roles).toHaveLength(9);
      const policies = Object.values(resources('AWS::IAM::ManagedPolicy', t));
      for (const [roleId] of roles) {
        const denies = policies
          .filter((p) => p.Properties!.Roles.some((r: { Ref: string }) => r.Ref === roleId))
          .flatMap((p) => statements(p.Properties!.PolicyDocument))
          .filter((s) => s.Effect === 'Deny');
        expect(denies).toContainEqual(
          expect.objectContaining({
            Action: '*',
            Resource: '*',
            Condition: { StringNotEquals: { 'aws:RequestedRegion': [region] } },
          }),
        );
      }
    },
  );

  it('uses no AWS managed policy and no inline policy', () => {
    expect(resources('AWS::IAM::Policy')).toEqual({});
    for (const role of Object.values(resources('AWS::IAM::Role'))) {
      expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties!.Policies).toBeUndefined();
    }
  });

  it('allows no action "*", and resource "*" only for actions that cannot be scoped', () => {
    const allows = Object.values(resources('AWS::IAM::ManagedPolicy'))
      .flatMap((p) => statements(p.Properties!.PolicyDocument))
      .filter((s) => s.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(0);
    for (const s of allows) {
      const actions = ([] as string[]).concat(s.Action);
      expect(actions).not.toContain('*');
      for (const a of actions) expect(a).not.toMatch(/^[a-z0-9-]+:\*$/);
      if (([] as unknown[]).concat(s.Resource).includes('*')) {
        for (const a of actions) expect(RESOURCE_STAR_ACTIONS).toContain(a);
      }
    }
  });

  it('lets the documents key be used only with the tenant as encryption context', () => {
    const allows = Object.values(resources('AWS::IAM::ManagedPolicy'))
      .flatMap((p) => statements(p.Properties!.PolicyDocument))
      .filter((s) => JSON.stringify(s.Resource ?? s.NotResource).includes('DocumentsKey'));
    expect(allows.length).toBeGreaterThan(0);
    for (const s of allows) {
      expect(s.Condition).toEqual({
        'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] },
      });
    }
  });
});

describe('alarms: overdue requests and failures reach a person', () => {
  it('alarms on dead-letter depth, message age and overdue requests, to the topic', () => {
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm'));
    const metrics = alarms.map((a) => a.Properties!.MetricName);
    expect(metrics.filter((m) => m === 'ApproximateNumberOfMessagesVisible')).toHaveLength(2);
    expect(metrics.filter((m) => m === 'ApproximateAgeOfOldestMessage')).toHaveLength(6);
    expect(metrics).toContain('OverdueRequests');
    for (const alarm of alarms) {
      expect(alarm.Properties!.AlarmActions).toEqual([
        { Ref: expect.stringMatching(/^AlarmsTopic/) },
      ]);
    }
    template().hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('alarms on exactly the metrics the sweeper emits (namespace, names, service dimension), each at its threshold', () => {
    // Prepare: what the sweeper's Powertools Metrics writes (EMF) for one run
    const metrics = sweepMetrics();
    for (const name of [
      SWEEP_METRICS.overdueRequests,
      SWEEP_METRICS.waitingForClosure,
      SWEEP_METRICS.oldestWaitingForClosureDays,
    ])
      metrics.addMetric(name, MetricUnit.Count, 0);
    const emf = metrics.serializeMetrics();
    metrics.clearMetrics();
    const [directive] = emf._aws.CloudWatchMetrics;
    const dimensions = directive.Dimensions.flat().map((d) => ({
      Name: d,
      Value: (emf as any)[d],
    }));
    const alarmOf = (t: ReturnType<typeof template>, name: string) =>
      Object.values(resources('AWS::CloudWatch::Alarm', t))
        .filter((a) => a.Properties!.MetricName === name)
        .map((a) => a.Properties);
    // Act
    const t = template();
    const tuned = template('eu-west-3', { waitingForClosureAlarmDays: '365' });
    const sweep = Object.values(resources('AWS::Lambda::Function', t)).find(
      (f) => (f as any).Metadata?.[ENTRY_METADATA_KEY] === 'functions/retention-sweep.ts',
    );
    // Assess: one namespace for every metric, the sweeper's service as its only dimension
    expect(directive.Namespace).toBe('PrivacyOps');
    expect(dimensions).toEqual([{ Name: 'service', Value: 'retention-sweep' }]);
    const watched = { Namespace: directive.Namespace, Dimensions: dimensions };
    expect(alarmOf(t, SWEEP_METRICS.overdueRequests)).toEqual([
      expect.objectContaining({ ...watched, Threshold: 0, Statistic: 'Maximum' }),
    ]);
    expect(alarmOf(t, SWEEP_METRICS.oldestWaitingForClosureDays)).toEqual([
      expect.objectContaining({ ...watched, Threshold: 1096, Period: 3600 }),
    ]);
    expect(alarmOf(tuned, SWEEP_METRICS.oldestWaitingForClosureDays)).toEqual([
      expect.objectContaining({ Threshold: 365 }),
    ]);
    for (const alarm of alarmOf(t, SWEEP_METRICS.oldestWaitingForClosureDays))
      expect(alarm!.ComparisonOperator).toBe('GreaterThanThreshold');
    expect(directive.Metrics.map((m) => m.Name).sort()).toEqual(
      ['OldestWaitingForClosureDays', 'OverdueRequests', 'WaitingForClosure'].sort(),
    );
    expect(sweep?.Properties!.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe(
      SWEEP_METRICS.service,
    );
  });

  it('subscribes the configured e-mail addresses', () => {
    const t = template('eu-west-3', { alarmEmail: 'ops@example.eu,dpo@example.eu' });
    const subs = Object.values(resources('AWS::SNS::Subscription', t));
    expect(subs.map((s) => s.Properties!.Endpoint).sort()).toEqual([
      'dpo@example.eu',
      'ops@example.eu',
    ]);
    expect(Object.keys(resources('AWS::SNS::Subscription'))).toHaveLength(0);
  });
});

describe('outputs', () => {
  it('declares every output of the wire contract', () => {
    const outputs = Object.keys(template().toJSON().Outputs ?? {});
    expect(outputs).toEqual(expect.arrayContaining([...WIRE_CONTRACT_OUTPUTS]));
  });
});
