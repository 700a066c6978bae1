/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation is untyped JSON */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import { referencedId } from './role-policy';
import { statements } from './stack-template';

/** Both stacks of the app deployed in `region`: the pipeline and the anchor of its checkpoints. */
function stacks(region: string) {
  const app = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], region } }));
  const pipeline = app.node.findChild('PrivacyOps') as Stack;
  const anchor = app.node.findChild('PrivacyOpsAnchor') as Stack;
  return {
    pipeline,
    anchor,
    main: Template.fromStack(pipeline).toJSON().Resources as Record<string, any>,
    replica: Template.fromStack(anchor).toJSON().Resources as Record<string, any>,
  };
}

const eu3 = stacks('eu-west-3');
const ofType = (resources: Record<string, any>, type: string) =>
  Object.entries(resources).filter(([, r]) => r.Type === type);

/** The logical id of the checkpointer's function and role. */
function checkpointer(resources: Record<string, any>) {
  const [id, fn] = ofType(resources, 'AWS::Lambda::Function').find(
    ([, r]) => r.Metadata?.['privacy-ops:entry'] === 'functions/checkpointer.ts',
  )!;
  return { id, role: referencedId(fn.Properties.Role)! };
}

describe('signed checkpoints: the key, its policy and the schedule', () => {
  const [keyId, key] = ofType(eu3.main, 'AWS::KMS::Key').find(
    ([, r]) => r.Properties.KeySpec === 'ECC_NIST_P256',
  )!;
  const signer = checkpointer(eu3.main);

  it('signs with an ECC_NIST_P256 key for signing only, retained', () => {
    expect(key.Properties.KeyUsage).toBe('SIGN_VERIFY');
    expect(key.DeletionPolicy).toBe('Retain');
  });

  it("lets only the checkpointer's role sign: the key policy names it alone, and the account cannot sign or grant", () => {
    // Act
    const policy = statements(key.Properties.KeyPolicy);
    const signing = policy.filter((s) =>
      []
        .concat(s.Action)
        .some((a: string) => a === 'kms:Sign' || a === 'kms:*' || a === 'kms:Sign*'),
    );
    const granting = policy.filter((s) =>
      [].concat(s.Action).some((a: string) => /^kms:(\*|Create\*|CreateGrant)$/.test(a)),
    );
    // Assess
    expect(signing).toHaveLength(1);
    expect(signing[0].Effect).toBe('Allow');
    expect(referencedId(signing[0].Principal.AWS)).toBe(signer.role);
    expect(granting).toEqual([]);
  });

  it('gives kms:Sign on the key to no other role', () => {
    // Act
    const signers = ofType(eu3.main, 'AWS::IAM::ManagedPolicy')
      .filter(([, p]) =>
        statements(p.Properties.PolicyDocument).some(
          (s) =>
            s.Effect === 'Allow' &&
            [].concat(s.Action).includes('kms:Sign' as never) &&
            referencedId([].concat(s.Resource)[0]) === keyId,
        ),
      )
      .flatMap(([, p]) => p.Properties.Roles.map((r: unknown) => referencedId(r)));
    // Assess
    expect(signers).toEqual([signer.role]);
  });

  it('runs the checkpointer every 5 minutes', () => {
    const rules = ofType(eu3.main, 'AWS::Events::Rule').filter(([, r]) =>
      r.Properties.Targets.some((t: any) => referencedId(t.Arn) === signer.id),
    );
    expect(rules.map(([, r]) => r.Properties.ScheduleExpression)).toEqual(['rate(5 minutes)']);
  });
});

describe('the anchor: checkpoints replicated to the other EU region under Object Lock', () => {
  it.each([
    ['eu-west-3', 'eu-west-1'],
    ['eu-west-1', 'eu-west-3'],
  ])('deployed in %s, the anchor is in %s, locked in COMPLIANCE mode', (region, partner) => {
    // Prepare
    const { anchor, replica } = region === 'eu-west-3' ? eu3 : stacks(region);
    // Act
    const buckets = ofType(replica, 'AWS::S3::Bucket').filter(
      ([, b]) => b.Properties.ObjectLockEnabled,
    );
    // Assess
    expect(anchor.region).toBe(partner);
    expect(buckets).toHaveLength(1);
    const lock = buckets[0]![1].Properties.ObjectLockConfiguration.Rule.DefaultRetention;
    expect(lock.Mode).toBe('COMPLIANCE');
    expect(lock.Days).toBeGreaterThanOrEqual(365);
  });

  it('replicates only the checkpoints of the log bucket, to the anchor bucket, without deletions', () => {
    // Act
    const [, log] = ofType(eu3.main, 'AWS::S3::Bucket').find(
      ([, b]) => b.Properties.ReplicationConfiguration,
    )!;
    const { Rules } = log.Properties.ReplicationConfiguration;
    // Assess
    expect(log.Properties.ObjectLockEnabled).toBe(true);
    expect(Rules).toHaveLength(1);
    expect(Rules[0].Filter).toEqual({ Prefix: 'checkpoints/' });
    expect(Rules[0].DeleteMarkerReplication).toEqual({ Status: 'Disabled' });
    expect(JSON.stringify(Rules[0].Destination.Bucket)).toContain('privacy-ops-anchor-');
    expect(JSON.stringify(Rules[0].Destination.Bucket)).toContain('-eu-west-1');
  });

  it('lets the replication role write to the anchor only, and denies every other destination', () => {
    // Act
    const [, policy] = ofType(eu3.main, 'AWS::IAM::ManagedPolicy').find(([, p]) =>
      statements(p.Properties.PolicyDocument).some((s) =>
        [].concat(s.Action).includes('s3:ReplicateObject' as never),
      ),
    )!;
    const all = statements(policy.Properties.PolicyDocument);
    const writes = all.filter(
      (s) =>
        s.Effect === 'Allow' &&
        [].concat(s.Action).some((a: string) => a.startsWith('s3:Replicate')),
    );
    const deny = all.find((s) => s.Effect === 'Deny');
    // Assess
    expect(writes).toHaveLength(1);
    expect(JSON.stringify(writes[0].Resource)).toMatch(
      /privacy-ops-anchor-.*-eu-west-1\/checkpoints\/\*/,
    );
    expect(deny.Action).toEqual(
      expect.arrayContaining(['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags']),
    );
    expect(JSON.stringify(deny.NotResource)).toMatch(/privacy-ops-anchor-.*-eu-west-1\/\*/);
  });

  it('lets nothing but the replication role write into the anchor bucket', () => {
    // Act
    const [, policy] = ofType(eu3.replica, 'AWS::S3::BucketPolicy').find(([, p]) =>
      statements(p.Properties.PolicyDocument).some(
        (s) => s.Sid === 'OnlyTheCheckpointReplicationWrites',
      ),
    )!;
    const deny = statements(policy.Properties.PolicyDocument).find(
      (s) => s.Sid === 'OnlyTheCheckpointReplicationWrites',
    );
    // Assess
    expect(deny.Effect).toBe('Deny');
    expect(deny.Action).toContain('s3:PutObject');
    expect(JSON.stringify(deny.Condition.ArnNotEquals)).toContain(
      'role/privacy-ops-checkpoint-replication',
    );
  });
});
