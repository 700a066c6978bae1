import { startLocalEndpoint } from '../../local/endpoint';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { synthesizeLocal } from '../../local/template';

/**
 * Integration tests share one local endpoint (moto) started here and one synthesized template;
 * each test file provisions its own resources under a random prefix.
 */
export default async function globalSetup(): Promise<void> {
  const endpoint = await startLocalEndpoint();
  (globalThis as { __privacyOpsEndpoint?: typeof endpoint }).__privacyOpsEndpoint = endpoint;
  process.env.PRIVACY_OPS_TEST_ENDPOINT = endpoint.url;
  process.env.PRIVACY_OPS_TEST_TEMPLATE = synthesizeLocal({
    region: 'eu-west-3',
    // A directory of its own, so concurrent test runs never read each other's template.
    outdir: mkdtempSync(path.join(tmpdir(), 'privacy-ops-cdk-')),
  });
}
