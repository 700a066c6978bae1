/* eslint-disable @typescript-eslint/no-explicit-any -- synthesized CloudFormation is untyped JSON */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';

/** The resources of one type in a synthesized template, by logical id. */
export type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

const templates = new Map<string, Template>();

/**
 * The synthesized stack for `region` (and extra context), once per test file and key: the rule
 * packs run during synthesis, so an unacknowledged finding throws here.
 */
export function template(region = 'eu-west-3', context: Record<string, unknown> = {}): Template {
  const key = JSON.stringify([region, context]);
  if (!templates.has(key)) {
    const app = buildApp(
      new App({ context: { 'aws:cdk:bundling-stacks': [], region, ...context } }),
    );
    templates.set(key, Template.fromStack(app.node.findChild('PrivacyOps') as Stack));
  }
  return templates.get(key)!;
}

/** The resources of `type` in `t`. */
export function resources(type: string, t = template()): Resources {
  return t.findResources(type) as Resources;
}

/** The statements of a policy document, whether it holds one or several. */
export function statements(doc: any): any[] {
  return ([] as any[]).concat(doc?.Statement ?? []);
}

/** The stack outputs the wire contract names (producers and auditors read them). */
export const WIRE_CONTRACT_OUTPUTS = [
  'IngressQueueUrl',
  'DeadLetterQueueUrl',
  'UploadBucketName',
  'VaultBucketName',
  'ExportBucketName',
  'LogBucketName',
  'RetentionTableName',
  'GlueDatabaseName',
  'GlueTableName',
  'AthenaWorkGroupName',
] as const;
