import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { KeyObject } from 'node:crypto';
import { ecdsaPublicKey, type NoteSigner } from '../transparency/note-ecdsa';

/**
 * The public half of an asymmetric KMS key (`GetPublicKey`: SPKI DER), as a P-256 `KeyObject`.
 * Refuses a key that is not ECC_NIST_P256 (see `ecdsaPublicKey`).
 */
export async function kmsPublicKey(kms: KMSClient, keyId: string): Promise<KeyObject> {
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (!PublicKey) throw new Error(`KMS returned no public key for ${keyId}`);
  return ecdsaPublicKey(PublicKey);
}

/** Gives a {@link NoteSigner} when one is needed (its public key may take a call to read). */
export interface NoteSignerSource {
  noteSigner(): Promise<NoteSigner>;
}

/**
 * Signs note texts with an ECC_NIST_P256 KMS key (`Sign`, `ECDSA_SHA_256`, `MessageType: RAW`:
 * KMS hashes the text with SHA-256 and returns an ASN.1 DER signature). The private key never
 * leaves KMS; the public key is read on first use (`GetPublicKey`, again after a failed read) so
 * every signature is checked before it is used.
 */
export class KmsNoteSigner implements NoteSignerSource {
  private signer?: Promise<NoteSigner>;

  constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
  ) {}

  /** The signer, its public key read once. */
  noteSigner(): Promise<NoteSigner> {
    this.signer ??= this.load().catch((error: unknown) => {
      this.signer = undefined;
      throw error;
    });
    return this.signer;
  }

  private async load(): Promise<NoteSigner> {
    const { kms, keyId } = this;
    return {
      publicKey: await kmsPublicKey(kms, keyId),
      signatureEncoding: 'der',
      sign: async (message) => {
        const { Signature } = await kms.send(
          new SignCommand({
            KeyId: keyId,
            Message: message,
            MessageType: 'RAW',
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        );
        if (!Signature) throw new Error(`KMS returned no signature for ${keyId}`);
        return Signature;
      },
    };
  }
}
