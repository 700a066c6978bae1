/**
 * The package's entry for CDK apps: the {@link PrivacyOpsPipeline} construct, the stack of the
 * checkpoint anchor it replicates to, the region rules and the security rule packs.
 */
export { PrivacyOpsPipeline } from './constructs/privacy-ops-pipeline';
export type { PrivacyOpsPipelineProps, ScalingOverrides } from './constructs/privacy-ops-pipeline';
export { CheckpointAnchorStack } from './stacks/checkpoint-anchor-stack';
export type { CheckpointAnchorStackProps } from './stacks/checkpoint-anchor-stack';
export {
  ALLOWED_REGIONS,
  DEFAULT_QUEUE_SCALING,
  InvalidDeploymentConfigError,
  partnerRegion,
} from './config';
export type { AllowedRegion, DeploymentConfig, QueueFedFunctionName, QueueScaling } from './config';
export { securityRulePacks } from './app';
export { loadProducerRegistry, ProducerRegistry } from '../shared/intake/producer-registry';
export { loadRetentionPolicy } from '../shared/retention/policy';
