/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation is untyped JSON */
/** The ingress queue and the upload bucket admit only registered producers, each to its tenants. */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import { loadProducerRegistry } from '../../shared/intake/producer-registry';
import { statements } from './stack-template';

const ACME = {
  principal: 'arn:aws:iam::111122223333:role/acme-expenses',
  senderId: 'AROAEXAMPLEACME00001',
  sources: ['/expense-service'],
  tenants: ['acme-sas', 'acme-gmbh'],
  types: ['privacy.document.uploaded.v1'],
};
const PLATFORM = {
  principal: 'arn:aws:iam::444455556666:user/platform',
  senderId: 'AIDAEXAMPLEPLATF0001',
  sources: '*',
  tenants: '*',
  types: '*',
};

function synthesize(producers: Record<string, unknown>): Template {
  const app = buildApp(
    new App({ context: { 'aws:cdk:bundling-stacks': [], region: 'eu-west-3' } }),
    { producers: loadProducerRegistry({ version: 1, producers }) },
  );
  return Template.fromStack(app.node.findChild('PrivacyOps') as Stack);
}

/** The statements of the resource policy attached to the resource whose logical id starts with `prefix`. */
function policyOf(t: Template, type: string, prefix: string): any[] {
  const target = Object.keys(t.toJSON().Resources).find((id) => id.startsWith(prefix))!;
  const policies = Object.values(t.findResources(type)).filter((p: any) => {
    const refs = [].concat(p.Properties.Queues ?? p.Properties.Bucket);
    return refs.some((r: any) => r?.Ref === target);
  });
  expect(policies).toHaveLength(1);
  return statements((policies[0] as any).Properties.PolicyDocument);
}

const objectsUnder = (prefix: string) => ({
  'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^UploadBucket/), 'Arn'] }, prefix]],
});
const sends = (s: any, action: string) => [].concat(s.Action).includes(action as never);

describe('producer access: the registry decides who may send and upload', () => {
  const t = synthesize({ 'acme-expenses': ACME, platform: PLATFORM });
  const queue = policyOf(t, 'AWS::SQS::QueuePolicy', 'IngressQueue');
  const bucket = policyOf(t, 'AWS::S3::BucketPolicy', 'UploadBucket');

  it('lets each registered principal send to the ingress queue', () => {
    // Assess
    const allow = queue.filter((s) => s.Effect === 'Allow' && sends(s, 'sqs:SendMessage'));
    expect(allow.flatMap((s) => [].concat(s.Principal.AWS)).sort()).toEqual(
      [ACME.principal, PLATFORM.principal].sort(),
    );
  });

  it('denies sending to every principal whose unique id is not registered', () => {
    // Assess
    const deny = queue.filter((s) => s.Effect === 'Deny' && sends(s, 'sqs:SendMessage'));
    expect(deny).toHaveLength(1);
    expect(deny[0].Principal).toEqual({ AWS: '*' });
    expect(deny[0].Condition).toEqual({
      StringNotLike: {
        'aws:userid': expect.arrayContaining([`${ACME.senderId}:*`, PLATFORM.senderId]),
      },
    });
  });

  it("lets a producer put objects only under its own tenants' prefixes", () => {
    // Assess
    const allow = bucket.filter(
      (s) =>
        s.Effect === 'Allow' && sends(s, 's3:PutObject') && s.Principal?.AWS === ACME.principal,
    );
    expect(allow).toHaveLength(1);
    expect(allow[0].Resource).toEqual([objectsUnder('/acme-sas/*'), objectsUnder('/acme-gmbh/*')]);
    const fenced = bucket.filter(
      (s) => s.Effect === 'Deny' && sends(s, 's3:PutObject') && s.NotResource !== undefined,
    );
    expect(fenced).toHaveLength(1);
    expect(fenced[0].NotResource).toEqual(allow[0].Resource);
    expect(fenced[0].Condition).toEqual({ StringLike: { 'aws:userid': `${ACME.senderId}:*` } });
    const everywhere = bucket.filter(
      (s) => s.Effect === 'Allow' && s.Principal?.AWS === PLATFORM.principal,
    );
    expect(everywhere[0].Resource).toEqual(objectsUnder('/*'));
  });

  it('denies uploads to every principal whose unique id is not registered', () => {
    // Assess
    const deny = bucket.filter(
      (s) => s.Effect === 'Deny' && sends(s, 's3:PutObject') && s.NotResource === undefined,
    );
    expect(deny).toHaveLength(1);
    expect(deny[0].Principal).toEqual({ AWS: '*' });
    expect(deny[0].Condition.StringNotLike['aws:userid'].sort()).toEqual(
      [`${ACME.senderId}:*`, PLATFORM.senderId].sort(),
    );
  });

  it('with no producer registered, denies every sender and every upload', () => {
    // Prepare
    const empty = synthesize({});
    // Assess
    for (const [type, prefix, action] of [
      ['AWS::SQS::QueuePolicy', 'IngressQueue', 'sqs:SendMessage'],
      ['AWS::S3::BucketPolicy', 'UploadBucket', 's3:PutObject'],
    ]) {
      const policy = policyOf(empty, type, prefix);
      const deny = policy.filter((s) => s.Effect === 'Deny' && sends(s, action));
      expect(deny).toHaveLength(1);
      expect(deny[0].Condition).toBeUndefined();
      expect(policy.filter((s) => s.Effect === 'Allow' && sends(s, action))).toHaveLength(0);
    }
  });
});
