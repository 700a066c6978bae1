/**
 * The configuration documents a deployment gives its functions: the retention policy, the
 * controllers' instructions and the producer registry, as the app that synthesized the pipeline
 * passed them to the construct. esbuild compiles them into each function bundle (`define` of
 * {@link DEPLOYED_CONFIG_GLOBAL}); where the code runs unbundled (tests, the local runtime) there
 * are none, and the repository's `config/` files apply.
 */
export interface DeployedConfigDocuments {
  readonly retentionPolicy: unknown;
  readonly tenants: unknown;
  readonly producers: unknown;
}

/** The global name esbuild replaces with the deployed documents. */
export const DEPLOYED_CONFIG_GLOBAL = 'PRIVACY_OPS_DEPLOYED_CONFIG';

declare const PRIVACY_OPS_DEPLOYED_CONFIG: DeployedConfigDocuments | undefined;

/** The documents compiled into this bundle, or undefined when none were. */
export const deployedConfig: DeployedConfigDocuments | undefined =
  typeof PRIVACY_OPS_DEPLOYED_CONFIG === 'undefined' ? undefined : PRIVACY_OPS_DEPLOYED_CONFIG;
