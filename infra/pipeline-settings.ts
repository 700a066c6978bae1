import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import * as path from 'node:path';
import type { DeployedConfigDocuments } from '../shared/deployed-config';
import { loadProducerRegistry, ProducerRegistry } from '../shared/intake/producer-registry';
import { readJsonConfig } from '../shared/retention/json-config';
import { loadRetentionPolicy } from '../shared/retention/policy';
import {
  allowedRegion,
  InvalidDeploymentConfigError,
  validateDeploymentConfig,
  type DeploymentConfig,
  type DeploymentSettings,
} from './config';
import { PACKAGE_ROOT } from './package-root';

/** Where the package keeps the configuration a pipeline runs with unless told otherwise. */
export const PACKAGED_CONFIG = {
  retentionPolicy: path.join(PACKAGE_ROOT, 'config', 'retention-policy.json'),
  tenants: path.join(PACKAGE_ROOT, 'config', 'tenants.json'),
  producers: path.join(PACKAGE_ROOT, 'config', 'producers.json'),
} as const;

/** What a pipeline is given: its region, its settings and its configuration documents. */
export interface PipelineInput extends DeploymentSettings {
  readonly region?: string;
  readonly retentionPolicy?: string | object;
  readonly tenantInstructions?: string | object;
  readonly producers?: string | object | ProducerRegistry;
}

/** A pipeline's input, validated. */
export interface PipelineSettings {
  readonly config: DeploymentConfig;
  readonly producers: ProducerRegistry;
  /** What its functions bundle: the policy, the instructions and the registry, as documents. */
  readonly documents: DeployedConfigDocuments;
}

/**
 * The region of the stack `scope` is in, which must be concrete and in the EU pair, and equal to
 * `region` when one is given. Refuses an environment-agnostic stack: its region is known only
 * at deployment, too late to keep the data in the EU.
 */
function pipelineRegion(scope: IConstruct, region: string | undefined) {
  const stack = Stack.of(scope);
  const remedy = "Set the stack's env.region to eu-west-3 or eu-west-1.";
  if (region !== undefined) allowedRegion(region, `${scope.node.path}: prop "region"`, remedy);
  if (Token.isUnresolved(stack.region))
    throw new InvalidDeploymentConfigError(
      `${scope.node.path}: stack ${stack.stackName} has no region; privacy-ops deploys only to ` +
        `eu-west-3 or eu-west-1, so that personal data never leaves the EU. ${remedy}`,
    );
  const stackRegion = allowedRegion(stack.region, `stack ${stack.stackName}`, remedy);
  if (region !== undefined && region !== stackRegion)
    throw new InvalidDeploymentConfigError(
      `${scope.node.path}: prop "region" is ${region} but stack ${stack.stackName} is in ${stackRegion}`,
    );
  return stackRegion;
}

/**
 * Validates a pipeline's input before any resource is built: the region, every setting, the
 * retention policy with the instructions over it, and the producer registry. Each refusal names
 * what is wrong (the region and its source, the setting, the policy entry, the tenant and
 * category of an instruction, the producer).
 */
export function resolvePipelineSettings(scope: IConstruct, input: PipelineInput): PipelineSettings {
  const config = validateDeploymentConfig(pipelineRegion(scope, input.region), input);
  const retentionPolicy = readJsonConfig(
    input.retentionPolicy ?? PACKAGED_CONFIG.retentionPolicy,
    'invalid-policy',
    'retention policy',
  );
  const tenants = readJsonConfig(
    input.tenantInstructions ?? PACKAGED_CONFIG.tenants,
    'invalid-tenants',
    'tenant configuration',
  );
  loadRetentionPolicy(retentionPolicy, tenants);
  const producers =
    input.producers instanceof ProducerRegistry
      ? input.producers
      : loadProducerRegistry(input.producers ?? PACKAGED_CONFIG.producers);
  return {
    config,
    producers,
    documents: { retentionPolicy, tenants, producers: producers.toDocument() },
  };
}
