import { createCipheriv, randomBytes } from 'node:crypto';
import type { DocumentContext } from '../../shared/vault/envelope';

/**
 * The vault's first writer, frozen: a whole document encrypted at once with AES-256-GCM under a
 * subject key, fresh 96-bit IV, bound to its context. Layout: `PODV` | format 1 | subject key id
 * (16) | IV (12) | tag (16) | ciphertext. The vault no longer writes it; tests use it to prove
 * that objects it wrote stay readable.
 */
export function encryptWholeDocument(
  key: Uint8Array,
  keyId: Uint8Array,
  context: DocumentContext,
  plaintext: Uint8Array,
): Buffer {
  const prefix = Buffer.concat([Buffer.from('PODV', 'ascii'), Buffer.of(1), keyId]);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const text = [
    'privacy-ops/document/v1',
    context.tenant,
    context.subject,
    context.keyClass,
    context.documentId,
  ].join('|');
  cipher.setAAD(Buffer.concat([prefix, Buffer.from(text, 'utf8')]));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([prefix, iv, cipher.getAuthTag(), ciphertext]);
}
