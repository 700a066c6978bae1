import { DescribeKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { CliError, type CliEnvironment } from './environment';

/** Start of the description the stack gives the pseudonym key (infra/stacks/privacy-ops-stack.ts). */
export const PSEUDONYM_KEY_DESCRIPTION = 'privacy-ops: HMAC key deriving the subject pseudonyms';

/**
 * Finds the KMS HMAC key of the pseudonyms: `--key`, else the stack output `PseudonymKeyArn`
 * (or `PseudonymKeyId`), else `PSEUDONYM_KEY_ID`, else the one enabled HMAC key whose description
 * is the stack's. Refuses when none or several match.
 */
export async function resolvePseudonymKey(
  kms: KMSClient,
  env: CliEnvironment,
  flag?: string,
): Promise<string> {
  const direct =
    flag ??
    env.outputs.PseudonymKeyArn ??
    env.outputs.PseudonymKeyId ??
    process.env.PSEUDONYM_KEY_ID;
  if (direct) return direct;
  const found: string[] = [];
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListKeysCommand({ Marker: marker }));
    for (const k of page.Keys ?? []) {
      const { KeyMetadata: m } = await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId! }));
      if (
        m?.KeySpec === 'HMAC_256' &&
        m.Enabled &&
        m.KeyState === 'Enabled' &&
        m.Description?.startsWith(PSEUDONYM_KEY_DESCRIPTION)
      )
        found.push(m.Arn ?? m.KeyId!);
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  if (found.length === 1) return found[0]!;
  throw new CliError(
    found.length === 0
      ? `no pseudonym key found in ${env.source}: pass --key <key id or ARN>`
      : `${found.length} pseudonym keys found: pass --key <key id or ARN> (${found.join(', ')})`,
  );
}
