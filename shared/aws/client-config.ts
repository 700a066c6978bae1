/**
 * Options every AWS client of the pipeline is built with. In Lambda nothing is set and the SDK
 * uses the function's region and credentials. Locally `AWS_ENDPOINT_URL` points every client at
 * the local endpoint (moto). One file per client below, so each function bundles only the
 * SDK clients it imports.
 */
export interface ClientConfig {
  region?: string;
  endpoint?: string;
  maxAttempts?: number;
}

/** Builds the client options from the environment. */
export function clientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const endpoint = env.AWS_ENDPOINT_URL;
  const maxAttempts = env.AWS_MAX_ATTEMPTS ? Number(env.AWS_MAX_ATTEMPTS) : undefined;
  return {
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(maxAttempts ? { maxAttempts } : {}),
  };
}
