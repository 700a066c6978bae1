import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import {
  DOCUMENT_HEADER_BYTES,
  decryptDocument,
  documentKeyId,
  unwrapSubjectKey,
  wrapSubjectKey,
} from '../../shared/vault/envelope';
import { encryptWholeDocument } from '../support/whole-document-writer';
import { DocumentIntegrityError, KeyStoreIntegrityError } from '../../shared/vault/errors';

const context = {
  tenant: 'acme-sas',
  subject: 'a'.repeat(64),
  keyClass: 'case-document',
  documentId: 'receipt-0001',
};

describe('vault envelope: documents', () => {
  const key = randomBytes(32);
  const keyId = randomBytes(16);

  it('round-trips any plaintext and never stores it in clear', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 4096 }), (plaintext) => {
        // Prepare / Act
        const object = encryptWholeDocument(key, keyId, context, plaintext);
        // Assess
        expect(object.length).toBe(DOCUMENT_HEADER_BYTES + plaintext.length);
        expect(Buffer.from(decryptDocument(key, context, object))).toEqual(Buffer.from(plaintext));
        if (plaintext.length >= 16)
          expect(object.includes(Buffer.from(plaintext.subarray(0, 16)))).toBe(false);
      }),
    );
  });

  it('uses a fresh IV per object, so the same plaintext encrypts differently', () => {
    // Prepare
    const plaintext = Buffer.from('same content');
    // Act
    const first = encryptWholeDocument(key, keyId, context, plaintext);
    const second = encryptWholeDocument(key, keyId, context, plaintext);
    // Assess
    expect(first.equals(second)).toBe(false);
    expect(first.subarray(21, 33).equals(second.subarray(21, 33))).toBe(false);
  });

  it('carries the subject key id in its header', () => {
    // Prepare / Act
    const object = encryptWholeDocument(key, keyId, context, Buffer.from('x'));
    // Assess
    expect(documentKeyId(object).equals(keyId)).toBe(true);
  });

  it('refuses any single flipped byte (header, IV, tag or ciphertext)', () => {
    // Prepare
    const object = encryptWholeDocument(
      key,
      keyId,
      context,
      Buffer.from('invoice 2026-0042: 120.00 EUR'),
    );
    for (let i = 0; i < object.length; i++) {
      const tampered = Buffer.from(object);
      tampered[i] ^= 0x01;
      // Act / Assess
      expect(() => decryptDocument(key, context, tampered)).toThrow(DocumentIntegrityError);
    }
  });

  it('refuses a truncated object and a foreign one', () => {
    // Prepare
    const object = encryptWholeDocument(key, keyId, context, Buffer.from('content'));
    // Act / Assess
    expect(() => decryptDocument(key, context, object.subarray(0, object.length - 1))).toThrow(
      DocumentIntegrityError,
    );
    expect(() => decryptDocument(key, context, object.subarray(0, 10))).toThrow(
      DocumentIntegrityError,
    );
    expect(() => decryptDocument(key, context, Buffer.from('%PDF-1.7 plain file'))).toThrow(
      DocumentIntegrityError,
    );
  });

  it.each([
    ['tenant', { tenant: 'other-tenant' }],
    ['subject', { subject: 'b'.repeat(64) }],
    ['key class', { keyClass: 'accounting-document' }],
    ['document id', { documentId: 'receipt-0002' }],
  ])('refuses the ciphertext under another %s (AAD binding)', (_name, change) => {
    // Prepare
    const object = encryptWholeDocument(key, keyId, context, Buffer.from('content'));
    // Act / Assess
    expect(() => decryptDocument(key, { ...context, ...change }, object)).toThrow(
      DocumentIntegrityError,
    );
  });

  it('refuses the wrong key', () => {
    // Prepare
    const object = encryptWholeDocument(key, keyId, context, Buffer.from('content'));
    // Act / Assess
    expect(() => decryptDocument(randomBytes(32), context, object)).toThrow(DocumentIntegrityError);
  });
});

describe('vault envelope: subject keys wrapped under the tenant wrapping key', () => {
  const wrappingKey = randomBytes(32);
  const subjectKey = randomBytes(32);
  const keyContext = {
    tenant: 'acme-sas',
    subject: 'a'.repeat(64),
    keyClass: 'contract',
    keyId: 'ab'.repeat(16),
  };

  it('round-trips and does not contain the key in clear', () => {
    // Prepare / Act
    const wrapped = wrapSubjectKey(wrappingKey, subjectKey, keyContext);
    // Assess
    expect(wrapped.includes(subjectKey)).toBe(false);
    expect(unwrapSubjectKey(wrappingKey, wrapped, keyContext).equals(subjectKey)).toBe(true);
  });

  it.each([
    ['tenant', { tenant: 'beta-corp' }],
    ['subject', { subject: 'c'.repeat(64) }],
    ['key class', { keyClass: 'case-document' }],
    ['key id', { keyId: 'cd'.repeat(16) }],
  ])('refuses to unwrap under another %s', (_name, change) => {
    // Prepare
    const wrapped = wrapSubjectKey(wrappingKey, subjectKey, keyContext);
    // Act / Assess
    expect(() => unwrapSubjectKey(wrappingKey, wrapped, { ...keyContext, ...change })).toThrow(
      KeyStoreIntegrityError,
    );
  });

  it('refuses another wrapping key, a flipped byte and a malformed item', () => {
    // Prepare
    const wrapped = wrapSubjectKey(wrappingKey, subjectKey, keyContext);
    const flipped = Buffer.from(wrapped);
    flipped[flipped.length - 1] ^= 0x80;
    // Act / Assess
    expect(() => unwrapSubjectKey(randomBytes(32), wrapped, keyContext)).toThrow(
      KeyStoreIntegrityError,
    );
    expect(() => unwrapSubjectKey(wrappingKey, flipped, keyContext)).toThrow(
      KeyStoreIntegrityError,
    );
    expect(() => unwrapSubjectKey(wrappingKey, wrapped.subarray(1), keyContext)).toThrow(
      KeyStoreIntegrityError,
    );
  });
});
