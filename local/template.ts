import { App } from 'aws-cdk-lib';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildApp } from '../infra/app';

/** A CloudFormation template as synthesized by the CDK. */
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
}

/** One resource of a template. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string | string[];
}

/** Where local synthesis writes its cloud assembly. */
export const LOCAL_CDK_OUT = path.resolve(__dirname, '..', '.local', 'cdk.out');

/**
 * Synthesizes the CDK app into `outdir` (default `.local/cdk.out`) for the given region, with
 * asset bundling skipped (the local runtime runs handlers from source), and returns the path of
 * the stack's template. The template is the single description of what runs locally.
 */
export function synthesizeLocal(
  options: { region?: string; outdir?: string; context?: Record<string, unknown> } = {},
): string {
  const outdir = options.outdir ?? LOCAL_CDK_OUT;
  mkdirSync(outdir, { recursive: true });
  const app = new App({
    outdir,
    context: {
      region: options.region ?? 'eu-west-3',
      'aws:cdk:bundling-stacks': [],
      ...options.context,
    },
  });
  const assembly = buildApp(app).synth();
  const stack = assembly.stacks.find((s) => s.stackName === 'PrivacyOps') ?? assembly.stacks[0];
  if (!stack) throw new Error('The CDK app produced no stack');
  return path.join(outdir, stack.templateFile);
}

/** Reads a template from a `cdk.out` directory or a template file. */
export function readTemplate(templatePath: string): CfnTemplate {
  return JSON.parse(readFileSync(templatePath, 'utf8')) as CfnTemplate;
}
