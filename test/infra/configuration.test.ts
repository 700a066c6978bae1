import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import {
  DEFAULT_QUEUE_SCALING,
  loadDeploymentConfig,
  parseAlarmEmails,
  QUEUE_FED_FUNCTIONS,
} from '../../infra/config';
import { FUNCTIONS } from '../../shared/functions/declarations';
import { resources, template } from './stack-template';

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

  it.each([0, 1.5, 'never', 36501])('waitingForClosureAlarmDays %p', (value) => {
    expect(build({ waitingForClosureAlarmDays: value })).toThrow(
      /waitingForClosureAlarmDays must be a whole number of days/,
    );
  });

  it.each([0, -1, 1.5, 'big', 6 * 1024 ** 3])('maxDocumentBytes %p', (value) => {
    expect(build({ maxDocumentBytes: value })).toThrow(
      /maxDocumentBytes must be a whole number of bytes from 1 to 5368709120/,
    );
  });

  it('gives the upload function the document size limit of the context, 512 MiB by default', () => {
    const limitOf = (context: Record<string, unknown>) => {
      const app = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }));
      const stack = app.node.findChild('PrivacyOps') as Stack;
      const functions = Object.values(
        Template.fromStack(stack).findResources('AWS::Lambda::Function'),
      ) as Array<{ Properties: { Environment?: { Variables?: Record<string, unknown> } } }>;
      return functions
        .map((f) => f.Properties.Environment?.Variables?.MAX_DOCUMENT_BYTES)
        .filter((v) => v !== undefined);
    };
    expect(limitOf({})).toEqual([String(512 * 1024 * 1024)]);
    expect(limitOf({ maxDocumentBytes: '1048576' })).toEqual(['1048576']);
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
      waitingForClosureAlarmDays: 1096,
      alarmEmails: [],
      scaling: DEFAULT_QUEUE_SCALING,
      maxDocumentBytes: 512 * 1024 * 1024,
    });
    expect(parseAlarmEmails('a@b.eu, c@d.eu')).toEqual(['a@b.eu', 'c@d.eu']);
    expect(parseAlarmEmails(['a@b.eu'])).toEqual(['a@b.eu']);
  });
});

describe('scaling of the queue-fed functions (context `scaling`)', () => {
  it.each([
    [{ 'document-upload': { batchSize: 0 } }, /batchSize must be 1-10000/],
    [{ 'document-upload': { batchSize: 20, batchingWindowSeconds: 0 } }, /at least 1 second/],
    [{ 'document-upload': { batchingWindowSeconds: 301 } }, /batchingWindowSeconds must be 0-300/],
    [{ 'legal-hold': { maxConcurrency: 1 } }, /maxConcurrency must be 2-1000/],
    [{ 'retention-sweep': { maxConcurrency: 5 } }, /not a queue-fed function/],
    [{ intake: { parallel: true } }, /unknown field parallel/],
    ['{not json', /scaling must be a JSON object/],
  ])('refuses %p', (scaling, message) => {
    expect(build({ scaling })).toThrow(message);
  });

  it('refuses reservations that leave the account fewer than 100 unreserved executions', () => {
    // Prepare: defaults reserve 96 of an account of 1,000; 860 for the upload (instead of 50) 906
    const scaling = JSON.stringify({ 'document-upload': { maxConcurrency: 860 } });
    // Act / Assess
    expect(build({ scaling })).toThrow(/must keep 100 unreserved/);
    expect(build({ scaling: { intake: { maxConcurrency: 30 } }, accountConcurrency: 100 })).toThrow(
      /must keep 100 unreserved/,
    );
  });

  it('names every function a queue feeds, and only those', () => {
    const queueFed = Object.values(FUNCTIONS)
      .filter((f) => f.input.kind === 'operation-queue' || f.input.kind === 'ingress-queue')
      .map((f) => f.name)
      .sort();
    expect([...QUEUE_FED_FUNCTIONS].sort()).toEqual(queueFed);
  });

  it('gives each mapping its batch size, window and maximum concurrency, and reserves as much', () => {
    // Act
    const t = template('eu-west-3', {
      scaling: {
        'document-upload': { batchSize: 25, batchingWindowSeconds: 2, maxConcurrency: 80 },
      },
    });
    // Assess: the upload's mapping and reservation follow the context, the others the defaults
    const mappings = Object.values(resources('AWS::Lambda::EventSourceMapping', t)).filter(
      (m) => m.Properties?.ScalingConfig,
    );
    const concurrency = mappings.map((m) => m.Properties!.ScalingConfig.MaximumConcurrency).sort();
    expect(concurrency).toEqual([20, 5, 5, 5, 5, 80].sort());
    const upload = mappings.find((m) => m.Properties!.ScalingConfig.MaximumConcurrency === 80)!;
    expect(upload.Properties).toMatchObject({ BatchSize: 25, MaximumBatchingWindowInSeconds: 2 });
    const reserved = Object.values(resources('AWS::Lambda::Function', t))
      .map((f) => f.Properties?.ReservedConcurrentExecutions)
      .filter((r) => r !== undefined)
      .sort();
    // the one-at-a-time sweeper and checkpointer, the intake, the operations
    expect(reserved).toEqual([1, 1, 20, 5, 5, 5, 5, 5, 80].sort());
  });
});
