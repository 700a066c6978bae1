import fc from 'fast-check';
import { EVENT_TYPES, MAX_EVENT_BYTES } from '../../events';
import { exampleEvents } from '../../events/examples';
import { decideIngressMessage, uploadKeyProblem } from '../../shared/intake/validate';

const BUCKET = 'po1234-upload';
const rules = { uploadBucket: BUCKET };
const examples = exampleEvents(BUCKET);
const upload = examples['privacy.document.uploaded.v1'];
const REASON =
  /^(oversize|invalid-json|unknown-type|invalid-id|invalid-source|(invalid-field|implausible-date):[A-Za-z0-9._()-]+|wrong-bucket|key-outside-tenant-prefix|key-traversal)$/;

const withUpload = (change: Partial<{ bucket: string; key: string }>) =>
  JSON.stringify({
    ...upload,
    data: { ...upload.data, upload: { ...upload.data.upload, ...change } },
  });

/** The reason of the decision, or 'accepted'. */
const reasonOf = (body: string) => {
  const decision = decideIngressMessage(body, rules);
  return decision.ok ? 'accepted' : decision.error.reason;
};

describe('decideIngressMessage: one reason per kind of bad input', () => {
  it.each(EVENT_TYPES)('accepts the baseline %s', (type) => {
    // Prepare
    const body = JSON.stringify(examples[type]);
    // Act
    const reason = reasonOf(body);
    // Assess
    expect(reason).toBe('accepted');
  });

  it.each([
    ['oversize', JSON.stringify({ ...upload, pad: 'x'.repeat(MAX_EVENT_BYTES) })],
    ['oversize', JSON.stringify({ ...upload, pad: 'é'.repeat(MAX_EVENT_BYTES / 2) })],
    ['invalid-json', '{"specversion": "1.0", '],
    ['invalid-json', ''],
    ['invalid-field:(root)', '[1, 2]'],
    ['invalid-field:(root)', 'null'],
    ['unknown-type', JSON.stringify({ ...upload, type: 'privacy.document.uploaded.v2' })],
    ['unknown-type', JSON.stringify({ ...upload, type: 'com.example.other' })],
    ['invalid-field:type', JSON.stringify({ ...upload, type: 42 })],
    ['invalid-field:specversion', JSON.stringify({ ...upload, specversion: '0.3' })],
    ['invalid-field:tenantid', JSON.stringify({ ...upload, tenantid: 'ACME' })],
    ['invalid-field:time', JSON.stringify({ ...upload, time: 'yesterday' })],
    [
      'invalid-field:data.subjectId',
      JSON.stringify({ ...upload, data: { ...upload.data, subjectId: '' } }),
    ],
    [
      'invalid-field:data.sha256',
      JSON.stringify({ ...upload, data: { ...upload.data, sha256: 'ABC' } }),
    ],
    [
      'invalid-field:data.categories.0',
      JSON.stringify({
        ...examples['privacy.erasure.requested.v1'],
        data: { ...examples['privacy.erasure.requested.v1'].data, categories: ['Not A Category'] },
      }),
    ],
    ['wrong-bucket', withUpload({ bucket: 'someone-elses-bucket' })],
    ['key-outside-tenant-prefix', withUpload({ key: 'other-tenant/incoming/x.pdf' })],
    ['key-outside-tenant-prefix', withUpload({ key: '/acme-sas/incoming/x.pdf' })],
    ['key-outside-tenant-prefix', withUpload({ key: 'acme-sas-evil/x.pdf' })],
    ['key-outside-tenant-prefix', withUpload({ key: 'acme-sas/' })],
    ['key-traversal', withUpload({ key: 'acme-sas/../other-tenant/x.pdf' })],
    ['key-traversal', withUpload({ key: 'acme-sas/incoming/..' })],
    ['key-traversal', withUpload({ key: 'acme-sas\\..\\other\\x.pdf' })],
  ])('rejects with %s', (expected, body) => {
    // Prepare
    const decision = decideIngressMessage(body, rules);
    // Act
    const reason = decision.ok ? 'accepted' : decision.error.reason;
    // Assess
    expect(reason).toBe(expected);
    expect(decision.ok || decision.error.transient).toBe(false);
  });

  it('never puts a value of the event in the rejection message', () => {
    // Prepare
    const secret = 'emp-SECRET-4242';
    const bodies = [
      JSON.stringify({ ...upload, data: { ...upload.data, subjectId: `${secret} x` } }),
      withUpload({ key: `other/${secret}.pdf` }),
      withUpload({ bucket: secret }),
      JSON.stringify({ ...upload, type: secret }),
    ];
    // Act
    const messages = bodies.map((b) => {
      const d = decideIngressMessage(b, rules);
      return d.ok ? '' : `${d.error.reason} ${d.error.message}`;
    });
    // Assess
    expect(messages.every((m) => m.length > 0 && !m.includes('SECRET'))).toBe(true);
  });
});

describe('uploadKeyProblem', () => {
  it('accepts keys under the tenant prefix, including dots that are not segments', () => {
    // Prepare
    const keys = ['acme-sas/a.pdf', 'acme-sas/x/..y/z', 'acme-sas/.../a', 'acme-sas/a/./b'];
    // Act
    const problems = keys.map((k) => uploadKeyProblem('acme-sas', k));
    // Assess
    expect(problems).toEqual([undefined, undefined, undefined, undefined]);
  });
});

/** Arbitrary JSON-ish mutation of an object: set, delete or retype one field at some depth. */
const mutation = fc.record({
  path: fc.array(
    fc.constantFrom(
      'data',
      'upload',
      'id',
      'type',
      'tenantid',
      'source',
      'time',
      'specversion',
      'subjectId',
      'key',
      'bucket',
      'category',
      'documentId',
      'requestId',
      'receivedAt',
      'closedAt',
      'holdId',
      'reason',
      'categories',
    ),
    { minLength: 1, maxLength: 3 },
  ),
  value: fc.oneof(
    fc.constant(undefined),
    fc.jsonValue(),
    fc.string(),
    fc.constantFrom('..', '/', 'acme-sas/../x', '', 'privacy.document.uploaded.v2'),
  ),
});

function mutate(event: unknown, m: { path: string[]; value: unknown }): unknown {
  const copy = structuredClone(event) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const part of m.path.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  const last = m.path[m.path.length - 1];
  if (m.value === undefined) delete node[last];
  else node[last] = m.value;
  return copy;
}

describe('decideIngressMessage: properties', () => {
  it('never throws on arbitrary strings, and rejects them with a known reason', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (body) => {
        // Act
        const decision = decideIngressMessage(body, rules);
        // Assess
        return decision.ok || REASON.test(decision.error.reason);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // Act
        const decision = decideIngressMessage(JSON.stringify(value) ?? 'null', rules);
        // Assess
        return decision.ok || REASON.test(decision.error.reason);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts or rejects with a known reason every mutation of a valid event', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENT_TYPES),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (type, mutations) => {
          // Prepare
          const event = mutations.reduce<unknown>((e, m) => mutate(e, m), examples[type]);
          // Act
          const decision = decideIngressMessage(JSON.stringify(event), rules);
          // Assess
          if (decision.ok) {
            const e = decision.event;
            if (e.type === 'privacy.document.uploaded.v1') {
              expect(e.data.upload.bucket).toBe(BUCKET);
              expect(e.data.upload.key.startsWith(`${e.tenantid}/`)).toBe(true);
              expect(e.data.upload.key.split(/[/\\]/)).not.toContain('..');
            }
            return true;
          }
          return REASON.test(decision.error.reason) && decision.error.transient === false;
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('accepts generated valid upload keys and rejects any key with a .. segment', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._ -]{1,12}$/);
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        fc.nat(5),
        fc.boolean(),
        (segments, at, traverse) => {
          // Prepare
          const parts = [...segments];
          if (traverse) parts.splice(Math.min(at, parts.length), 0, '..');
          const key = `acme-sas/${parts.join('/')}`;
          // Act
          const reason = reasonOf(withUpload({ key }));
          // Assess
          const expectTraversal = parts.includes('..');
          return expectTraversal ? reason === 'key-traversal' : reason === 'accepted';
        },
      ),
      { numRuns: 500 },
    );
  });
});
