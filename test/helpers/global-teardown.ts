import type { LocalEndpoint } from '../../local/endpoint';

/** Stops the endpoint the global setup started. */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __privacyOpsEndpoint?: LocalEndpoint }).__privacyOpsEndpoint?.stop();
}
