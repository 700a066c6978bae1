/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation is untyped JSON */
/** Least privilege, checked on the synthesized template: what no role may do. */
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { ENTRY_METADATA_KEY } from '../../infra/constructs/pipeline-function';
import { arnOf, RolePermissions, type TemplateResources } from './role-policy';
import { template } from './stack-template';

const resources = template().toJSON().Resources as TemplateResources;
const idOf = (prefix: string, type: string) => {
  const found = Object.entries(resources).filter(
    ([id, r]) => id.startsWith(prefix) && r.Type === type,
  );
  expect(found).toHaveLength(1);
  return found[0][0];
};
const functionOf = (entry: string) =>
  Object.entries(resources).find(
    ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[ENTRY_METADATA_KEY] === entry,
  )![0];

/** Every statement of every identity policy in the stack, with the policy's logical id. */
const identityStatements = Object.entries(resources)
  .filter(([, r]) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
  .flatMap(([id, r]) =>
    ([] as any[]).concat(r.Properties!.PolicyDocument.Statement).map((s) => ({ policy: id, s })),
  );
/** Every statement of every bucket policy, with the bucket policy's logical id. */
const bucketStatements = Object.entries(resources)
  .filter(([, r]) => r.Type === 'AWS::S3::BucketPolicy')
  .flatMap(([id, r]) =>
    ([] as any[]).concat(r.Properties!.PolicyDocument.Statement).map((s) => ({ policy: id, s })),
  );

const glob = (g: string) =>
  new RegExp(`^${g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
const actionsOf = (s: any): string[] => [].concat(s.Action ?? []);
const allowsAction = (s: any, action: string) => actionsOf(s).some((a) => glob(a).test(action));
/** The logical ids a statement's resources point at ('*' for a wildcard resource). */
const resourceIdsOf = (s: any): string[] =>
  ([] as unknown[]).concat(s.Resource ?? []).flatMap((r) => {
    const flat = flattenCfnReference(r);
    if (flat === '*') return ['*'];
    return [...flat.matchAll(/<([A-Za-z0-9]+)\.[A-Za-z]+>/g)].map((m) => m[1]);
  });

describe('least privilege: the upload role and the key store', () => {
  const keyStore = idOf('KeyStoreTable', 'AWS::DynamoDB::Table');
  const upload = new RolePermissions(resources, functionOf('functions/document-upload.ts'));

  it.each(['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:Scan'])(
    'the upload role may not %s the key store',
    (action) => {
      // Assess
      expect(upload.allows(action, arnOf(keyStore, 'table'))).toBe(false);
      expect(upload.allows(action, arnOf(keyStore, 'index'))).toBe(false);
    },
  );

  it('the upload role still reads and creates keys (the check is not vacuous)', () => {
    // Assess
    expect(upload.allows('dynamodb:GetItem', arnOf(keyStore, 'table'))).toBe(true);
    expect(upload.allows('dynamodb:PutItem', arnOf(keyStore, 'table'))).toBe(true);
  });
});

describe('least privilege: KMS keys used by a service on a function’s behalf', () => {
  // S3 (SSE-KMS), DynamoDB and SQS use these keys; no function calls them directly.
  const serviceKeys = [idOf('DataKey', 'AWS::KMS::Key'), idOf('LogKey', 'AWS::KMS::Key')];
  const documentsKey = idOf('DocumentsKey', 'AWS::KMS::Key');
  const kmsStatements = identityStatements.filter(
    ({ s }) => s.Effect === 'Allow' && actionsOf(s).some((a) => a.toLowerCase().startsWith('kms:')),
  );

  it('finds KMS statements on those keys (the check is not vacuous)', () => {
    // Assess
    expect(
      kmsStatements.filter(({ s }) => resourceIdsOf(s).some((id) => serviceKeys.includes(id)))
        .length,
    ).toBeGreaterThan(10);
  });

  it('every permission on a service-used key carries kms:ViaService', () => {
    // Prepare
    const unconditioned = kmsStatements
      .filter(({ s }) => resourceIdsOf(s).some((id) => serviceKeys.includes(id) || id === '*'))
      .filter(({ s }) => !JSON.stringify(s.Condition ?? {}).includes('"kms:ViaService"'))
      .map(({ policy, s }) => `${policy}: ${actionsOf(s).join(',')}`);
    // Assess
    expect(unconditioned).toEqual([]);
  });

  it('every permission on the documents key (direct envelope encryption) requires the tenant context', () => {
    // Prepare
    const onDocuments = kmsStatements.filter(({ s }) => resourceIdsOf(s).includes(documentsKey));
    // Assess
    expect(onDocuments.length).toBeGreaterThan(0);
    for (const { s } of onDocuments)
      expect(JSON.stringify(s.Condition ?? {})).toMatch(/kms:EncryptionContext(Keys|:tenant)/);
  });
});

describe('least privilege: nobody changes the Object Lock of the processing log', () => {
  const logBucket = idOf('LogBucket', 'AWS::S3::Bucket');
  const forbidden = [
    's3:PutObjectRetention',
    's3:PutBucketObjectLockConfiguration',
    's3:BypassGovernanceRetention',
    's3:PutObjectLegalHold',
  ];
  const onLog = (s: any) => resourceIdsOf(s).some((id) => id === logBucket || id === '*');

  it('finds statements on the log bucket (the check is not vacuous)', () => {
    // Assess
    expect(identityStatements.filter(({ s }) => onLog(s)).length).toBeGreaterThan(5);
  });

  it.each(forbidden)('no identity policy allows %s on the log bucket', (action) => {
    // Prepare
    const allowing = identityStatements
      .filter(({ s }) => s.Effect === 'Allow' && onLog(s) && allowsAction(s, action))
      .map(({ policy }) => policy);
    // Assess
    expect(allowing).toEqual([]);
  });

  it.each(forbidden)('no bucket policy allows %s on the log bucket', (action) => {
    // Prepare
    const allowing = bucketStatements
      .filter(({ s }) => s.Effect === 'Allow' && onLog(s) && allowsAction(s, action))
      .map(({ policy }) => policy);
    // Assess
    expect(allowing).toEqual([]);
  });

  it('no identity policy allows s3:* on the log bucket', () => {
    // Assess
    expect(
      identityStatements.filter(
        ({ s }) =>
          s.Effect === 'Allow' && onLog(s) && actionsOf(s).some((a) => a === 's3:*' || a === '*'),
      ),
    ).toEqual([]);
  });
});
