import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { ExpiringCache } from '../../shared/vault/expiring-cache';
import { KeyHierarchy, WRAPPING_KEY_PURPOSE } from '../../shared/vault/key-hierarchy';

/** An in-memory key store answering the commands the key hierarchy sends (pure-logic unit test). */
class FakeKeyStore {
  readonly items = new Map<string, Record<string, unknown>>();
  readonly calls: string[] = [];
  private id = (key: { pk: unknown; sk: unknown }) => `${String(key.pk)}|${String(key.sk)}`;

  readonly client = {
    send: async (command: unknown) => {
      await Promise.resolve();
      if (command instanceof GetCommand) {
        this.calls.push('Get');
        const item = this.items.get(this.id(command.input.Key as { pk: string; sk: string }));
        return { Item: item ? { ...item } : undefined };
      }
      if (command instanceof PutCommand) {
        this.calls.push('Put');
        const item = command.input.Item as { pk: string; sk: string };
        if (command.input.ConditionExpression && this.items.has(this.id(item))) {
          throw Object.assign(new Error('conditional'), {
            name: 'ConditionalCheckFailedException',
          });
        }
        this.items.set(this.id(item), { ...item });
        return {};
      }
      if (command instanceof DeleteCommand) {
        this.calls.push('Delete');
        const id = this.id(command.input.Key as { pk: string; sk: string });
        const old = this.items.get(id);
        this.items.delete(id);
        return { Attributes: old };
      }
      if (command instanceof QueryCommand) {
        this.calls.push('Query');
        const values = command.input.ExpressionAttributeValues as Record<string, string>;
        const items = [...this.items.values()].filter(
          (i) => i.pk === values[':pk'] && String(i.sk).startsWith(values[':prefix']),
        );
        return { Items: items.map((i) => ({ sk: i.sk })) };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as DynamoDBDocumentClient;
}

/** A KMS stand-in: data keys "encrypted" by reference, encryption context checked on Decrypt. */
class FakeKms {
  readonly calls: string[] = [];
  private readonly keys = new Map<string, { plaintext: Buffer; context: string }>();

  readonly client = {
    send: async (command: unknown) => {
      await Promise.resolve();
      if (command instanceof GenerateDataKeyCommand) {
        this.calls.push('GenerateDataKey');
        const plaintext = randomBytes(32);
        const blob = randomBytes(24);
        this.keys.set(blob.toString('hex'), {
          plaintext,
          context: JSON.stringify(command.input.EncryptionContext),
        });
        return { Plaintext: plaintext, CiphertextBlob: blob, KeyId: command.input.KeyId };
      }
      if (command instanceof DecryptCommand) {
        this.calls.push('Decrypt');
        const entry = this.keys.get(Buffer.from(command.input.CiphertextBlob!).toString('hex'));
        if (!entry || entry.context !== JSON.stringify(command.input.EncryptionContext))
          throw Object.assign(new Error('bad'), { name: 'InvalidCiphertextException' });
        return { Plaintext: entry.plaintext };
      }
      throw new Error('unexpected command');
    },
  } as unknown as KMSClient;
}

const subject = 'f'.repeat(64);
const MINUTE = 60_000;

function setup(ttlMs = 5 * MINUTE) {
  let time = 1_000_000;
  const store = new FakeKeyStore();
  const kms = new FakeKms();
  const make = () =>
    new KeyHierarchy({
      dynamo: store.client,
      kms: kms.client,
      table: 'keys',
      wrappingKeyId: 'arn:aws:kms:eu-west-3:000000000000:key/test',
      now: () => time,
      wrappingKeyTtlMs: ttlMs,
      subjectKeyTtlMs: ttlMs,
    });
  return { store, kms, make, advance: (ms: number) => (time += ms) };
}

describe('vault key hierarchy: tenant wrapping key cache', () => {
  it('creates the wrapping key once with GenerateDataKey and the tenant context', async () => {
    // Prepare
    const { store, kms, make } = setup();
    const keys = make();
    // Act
    const first = await keys.wrappingKey('acme-sas');
    const again = await keys.wrappingKey('acme-sas');
    // Assess
    expect(first.equals(again)).toBe(true);
    expect(kms.calls).toEqual(['GenerateDataKey']);
    expect(store.items.get('TENANT#acme-sas|WRAPPING#v1')).toBeDefined();
  });

  it('binds the wrapping key to its tenant through the KMS encryption context', async () => {
    // Prepare
    const { store, make } = setup();
    await make().wrappingKey('acme-sas');
    const item = store.items.get('TENANT#acme-sas|WRAPPING#v1')!;
    store.items.set('TENANT#beta-corp|WRAPPING#v1', { ...item, pk: 'TENANT#beta-corp' });
    // Act
    const stolen = make().wrappingKey('beta-corp');
    // Assess
    await expect(stolen).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    expect(WRAPPING_KEY_PURPOSE).toBe('privacy-ops/tenant-wrapping-key');
  });

  it('serves the wrapping key from memory within the TTL and decrypts it again after', async () => {
    // Prepare
    const { kms, make, advance } = setup(5 * MINUTE);
    await make().wrappingKey('acme-sas');
    const keys = make(); // a cold instance
    // Act
    await keys.wrappingKey('acme-sas');
    advance(5 * MINUTE - 1);
    await keys.wrappingKey('acme-sas');
    const callsWithinTtl = kms.calls.length;
    advance(1);
    await keys.wrappingKey('acme-sas');
    // Assess
    expect(callsWithinTtl).toBe(2); // GenerateDataKey (first instance) + one Decrypt
    expect(kms.calls).toEqual(['GenerateDataKey', 'Decrypt', 'Decrypt']);
  });

  it('makes concurrent callers share one KMS call', async () => {
    // Prepare
    const { kms, make } = setup();
    const keys = make();
    // Act
    const results = await Promise.all(Array.from({ length: 20 }, () => keys.wrappingKey('t1')));
    // Assess
    expect(kms.calls).toEqual(['GenerateDataKey']);
    expect(new Set(results.map((r) => r.toString('hex'))).size).toBe(1);
  });

  it('lets two instances creating at once agree on the stored key', async () => {
    // Prepare
    const { kms, make } = setup();
    const [a, b] = [make(), make()];
    // Act
    const [ka, kb] = await Promise.all([a.wrappingKey('t1'), b.wrappingKey('t1')]);
    // Assess
    expect(ka.equals(kb)).toBe(true);
    expect(kms.calls.filter((c) => c === 'GenerateDataKey')).toHaveLength(2);
    expect(kms.calls.filter((c) => c === 'Decrypt')).toHaveLength(1); // the loser re-reads
  });
});

describe('vault key hierarchy: subject key cache', () => {
  it('creates a subject key once per (tenant, subject, class), separate per class', async () => {
    // Prepare
    const { make } = setup();
    const keys = make();
    // Act
    const a = await keys.subjectKey('t1', subject, 'contract', true);
    const a2 = await keys.subjectKey('t1', subject, 'contract', true);
    const b = await keys.subjectKey('t1', subject, 'case-document', true);
    // Assess
    expect(a!.key.equals(a2!.key)).toBe(true);
    expect(a!.key.equals(b!.key)).toBe(false);
    expect(a!.id.equals(b!.id)).toBe(false);
  });

  it('does not create a key on read, and reports none', async () => {
    // Prepare
    const { store, make } = setup();
    // Act
    const key = await make().subjectKey('t1', subject, 'contract', false);
    // Assess
    expect(key).toBeUndefined();
    expect(store.items.size).toBe(0);
  });

  it('serves a subject key from memory within the TTL without touching the key store', async () => {
    // Prepare
    const { store, make, advance } = setup(5 * MINUTE);
    const keys = make();
    await keys.subjectKey('t1', subject, 'contract', true);
    const before = store.calls.length;
    // Act
    advance(5 * MINUTE - 1);
    await keys.subjectKey('t1', subject, 'contract', false);
    const withinTtl = store.calls.length - before;
    advance(1);
    await keys.subjectKey('t1', subject, 'contract', false);
    // Assess
    expect(withinTtl).toBe(0);
    expect(store.calls.length - before).toBeGreaterThan(0);
  });

  it('evicts its own cache on destroy: the key is gone at once in this instance', async () => {
    // Prepare
    const { make } = setup();
    const keys = make();
    await keys.subjectKey('t1', subject, 'contract', true);
    await keys.subjectKey('t1', subject, 'case-document', true);
    // Act
    const destroyed = await keys.destroySubjectKeys('t1', subject);
    // Assess
    expect(destroyed).toBe(2);
    expect(await keys.subjectKey('t1', subject, 'contract', false)).toBeUndefined();
    expect(await keys.subjectKey('t1', subject, 'case-document', false)).toBeUndefined();
    expect(await keys.destroySubjectKeys('t1', subject)).toBe(0);
  });

  it('destroys only the classes given', async () => {
    // Prepare
    const { make } = setup();
    const keys = make();
    await keys.subjectKey('t1', subject, 'contract', true);
    await keys.subjectKey('t1', subject, 'case-document', true);
    // Act
    const destroyed = await keys.destroySubjectKeys('t1', subject, ['case-document']);
    // Assess
    expect(destroyed).toBe(1);
    expect(await keys.subjectKey('t1', subject, 'case-document', false)).toBeUndefined();
    expect(await keys.subjectKey('t1', subject, 'contract', false)).toBeDefined();
  });

  it('bounds a stale key in another instance by the TTL', async () => {
    // Prepare
    const { make, advance } = setup(MINUTE);
    const [reader, eraser] = [make(), make()];
    await reader.subjectKey('t1', subject, 'contract', true);
    // Act
    await eraser.destroySubjectKeys('t1', subject);
    const staleWithinTtl = await reader.subjectKey('t1', subject, 'contract', false);
    advance(MINUTE);
    const afterTtl = await reader.subjectKey('t1', subject, 'contract', false);
    // Assess
    expect(staleWithinTtl).toBeDefined(); // documented bound: at most one TTL
    expect(afterTtl).toBeUndefined();
  });

  it('does not let a lookup in flight during a destroy refill the cache', async () => {
    // Prepare
    const { store, make } = setup();
    const keys = make();
    await make().subjectKey('t1', subject, 'contract', true); // exists in the store, not cached here
    // Act
    const inFlight = keys.subjectKey('t1', subject, 'contract', false); // reads the store...
    const destroyed = keys.destroySubjectKeys('t1', subject); // ...while a destroy runs
    await Promise.all([inFlight, destroyed]);
    store.calls.length = 0;
    const after = await keys.subjectKey('t1', subject, 'contract', false);
    // Assess
    expect(after).toBeUndefined();
    expect(store.calls).toEqual(['Get']); // not served from a refilled cache
  });
});

describe('ExpiringCache', () => {
  it('expires entries at the TTL and evicts the oldest beyond its bound', () => {
    // Prepare
    let time = 0;
    const cache = new ExpiringCache<number>(100, () => time, 2);
    // Act
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    // Assess
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(2);
    time = 99;
    expect(cache.get('c')).toBe(3);
    time = 100;
    expect(cache.get('c')).toBeUndefined();
    expect(() => new ExpiringCache(0, () => 0)).toThrow(RangeError);
  });

  it('removes by prefix', () => {
    // Prepare
    const cache = new ExpiringCache<number>(100, () => 0);
    cache.set('t1\u0000s1\u0000a', 1);
    cache.set('t1\u0000s1\u0000b', 2);
    cache.set('t1\u0000s10\u0000a', 3);
    // Act
    const removed = cache.deleteByPrefix('t1\u0000s1\u0000');
    // Assess
    expect(removed).toBe(2);
    expect(cache.get('t1\u0000s10\u0000a')).toBe(3);
  });
});
