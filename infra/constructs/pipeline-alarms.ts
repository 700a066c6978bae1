import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SWEEP_METRICS } from '../../shared/operations/sweep-metrics';

/** Properties of {@link PipelineAlarms}. */
export interface PipelineAlarmsProps {
  /** Key encrypting the alarm topic; the construct lets CloudWatch use it for this account. */
  readonly topicKey: kms.IKey;
  /** E-mail addresses subscribed to the topic. @default none (subscribe later, e.g. a chat hook) */
  readonly alarmEmails?: readonly string[];
  /** Dead-letter queues: any visible message raises an alarm. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** Work queues: a message older than `maxMessageAge` raises an alarm. */
  readonly workQueues: Readonly<Record<string, sqs.IQueue>>;
  /** Age of the oldest message that means the pipeline is stuck. @default 15 minutes */
  readonly maxMessageAge?: Duration;
  /**
   * Age in days of the oldest document waiting for a closure above which an alarm is raised
   * (the sweeper's `OldestWaitingForClosureDays`).
   * @default 1096 (three years)
   */
  readonly waitingForClosureAlarmDays?: number;
}

/**
 * The pipeline's alarms, all to one KMS-encrypted, TLS-only SNS topic: dead-letter depth > 0,
 * age of the oldest message of each work queue, overdue data-subject requests, and documents
 * waiting too long for a closure. Refuses a
 * maximum message age under one minute or over the queues' four-day default retention, an
 * invalid e-mail address, and an empty set of queues.
 */
export class PipelineAlarms extends Construct {
  /** Topic receiving every alarm and its return to OK. */
  readonly topic: sns.Topic;
  /** The alarms, by name. */
  readonly alarms: Record<string, cloudwatch.Alarm> = {};

  private readonly action: cloudwatchActions.SnsAction;

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    const maxAge = props.maxMessageAge ?? Duration.minutes(15);
    validate(id, props, maxAge);
    this.topic = this.alarmTopic(props);
    this.action = new cloudwatchActions.SnsAction(this.topic);
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      this.alarm(
        `${name}Depth`,
        `messages in ${name}; read their rejection reason, fix, redrive or discard`,
        queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
      );
    }
    for (const [name, queue] of Object.entries(props.workQueues)) {
      this.alarm(
        `${name}OldestMessage`,
        `${name} has a message older than ${maxAge.toHumanString()}; its consumer is failing or throttled`,
        queue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        maxAge.toSeconds(),
      );
    }
    this.alarm(
      'OverdueRequests',
      'a data-subject request is past its one-month deadline (GDPR Art. 12(3)); run the overdue-requests named query',
      sweepMetric(SWEEP_METRICS.overdueRequests),
    );
    const waitingDays = props.waitingForClosureAlarmDays ?? 1096;
    this.alarm(
      'WaitingForClosure',
      `a document has waited more than ${waitingDays} days for the end of its relationship; check that its producer sends account closures (waiting-for-closure named query)`,
      sweepMetric(SWEEP_METRICS.oldestWaitingForClosureDays),
      waitingDays,
    );
  }

  /** The encrypted topic CloudWatch may publish to, with the e-mail subscriptions. */
  private alarmTopic(props: PipelineAlarmsProps): sns.Topic {
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'privacy-ops alarms',
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    props.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    for (const email of props.alarmEmails ?? []) {
      const subscription = topic.addSubscription(new snsSubscriptions.EmailSubscription(email));
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An undelivered alarm e-mail loses no data: the alarm stays in ALARM state in CloudWatch ' +
          '(history, console) until resolved, and re-notifies on its OK/ALARM transitions.',
      });
    }
    return topic;
  }

  /** An alarm when `metric` exceeds `threshold`, notifying the topic of ALARM and of OK. */
  private alarm(name: string, description: string, metric: cloudwatch.IMetric, threshold = 0) {
    const alarm = new cloudwatch.Alarm(this, name, {
      alarmDescription: `privacy-ops: ${description}`,
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms[name] = alarm;
  }
}

/** A metric the retention sweeper emits every run (hourly), at its maximum over the hour. */
function sweepMetric(metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: SWEEP_METRICS.namespace,
    metricName,
    dimensionsMap: { service: SWEEP_METRICS.service },
    period: Duration.hours(1),
    statistic: cloudwatch.Stats.MAXIMUM,
  });
}

/** Refuses a maximum message age outside 1 minute–4 days, no dead-letter queue, a bad e-mail. */
function validate(id: string, props: PipelineAlarmsProps, maxAge: Duration): void {
  if (maxAge.toSeconds() < 60 || maxAge.toSeconds() > 4 * 86400) {
    throw new Error(`${id}: maxMessageAge must be between 1 minute and 4 days`);
  }
  if (Object.keys(props.deadLetterQueues).length === 0) {
    throw new Error(`${id}: at least one dead-letter queue must be watched`);
  }
  for (const email of props.alarmEmails ?? []) {
    if (!/^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/.test(email)) {
      throw new Error(`${id}: not an e-mail address: ${JSON.stringify(email)}`);
    }
  }
}
