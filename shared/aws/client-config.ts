import type { Pluggable } from '@smithy/types';

/**
 * Options every AWS client of the pipeline is built with. In Lambda nothing is set and the SDK
 * uses the function's region and credentials. Locally `AWS_ENDPOINT_URL` points every client at
 * the local endpoint (moto). One file per client beside this one, so each function bundles only
 * the SDK clients it imports.
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

// Middleware applied to every client the factories build: none in Lambda. Benchmarks and the
// fault-injection suite register call counters and fault injectors here before handlers load.
// The list lives on `globalThis` under a registered symbol, because the local runtime loads each
// function from its own bundle (its own copy of this module): the copies share the one list.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyPluggable = Pluggable<any, any>;
const PLUGINS = Symbol.for('privacy-ops.client-plugins');

function plugins(): AnyPluggable[] {
  const holder = globalThis as { [PLUGINS]?: AnyPluggable[] };
  return (holder[PLUGINS] ??= []);
}

/** Registers middleware for every client created from now on (benchmarks, fault injection). */
export function registerClientPlugin(plugin: AnyPluggable): () => void {
  plugins().push(plugin);
  return () => {
    const list = plugins();
    const i = list.indexOf(plugin);
    if (i >= 0) list.splice(i, 1);
  };
}

/** Applies the registered plugins to a freshly built client and returns it. */
export function withPlugins<C extends { middlewareStack: { use(p: AnyPluggable): void } }>(
  client: C,
): C {
  for (const plugin of plugins()) client.middlewareStack.use(plugin);
  return client;
}
