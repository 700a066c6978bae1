import { exampleEvents } from '../../events/examples';
import { ConfigurationError } from '../../shared/errors';
import {
  bundledProducerRegistry,
  defaultProducerRegistry,
  loadProducerRegistry,
} from '../../shared/intake/producer-registry';
import { decideIngressRecord } from '../../shared/intake/validate';
import { LOCAL_PRODUCERS_FILE } from '../../local/function-environment';

const BUCKET = 'po-upload';
const examples = exampleEvents(BUCKET);
const USER = 'AIDAEXAMPLEUSER00001';
const ROLE = 'AROAEXAMPLEROLE00001';

const entry = (overrides: Record<string, unknown> = {}) => ({
  principal: 'arn:aws:iam::111122223333:user/acme-expenses',
  senderId: USER,
  sources: ['/expense-service'],
  tenants: ['acme-sas'],
  types: ['privacy.erasure.requested.v1', 'privacy.document.uploaded.v1'],
  ...overrides,
});
const registry = loadProducerRegistry({
  version: 1,
  producers: {
    'acme-expenses': entry(),
    'platform-jobs': entry({
      principal: 'arn:aws:iam::111122223333:role/platform-jobs',
      senderId: ROLE,
      sources: '*',
      tenants: '*',
      types: '*',
    }),
  },
});
const rules = { uploadBucket: BUCKET, producers: registry };
const body = (change: Record<string, unknown> = {}) =>
  JSON.stringify({ ...examples['privacy.erasure.requested.v1'], ...change });
const reasonOf = (d: ReturnType<typeof decideIngressRecord>) => (d.ok ? 'ok' : d.error.reason);

describe('producer registry: who may act for which tenant', () => {
  it('accepts what the registration allows, and refuses each field outside it', () => {
    // Act + Assess
    expect(reasonOf(decideIngressRecord(body(), USER, rules))).toBe('ok');
    expect(reasonOf(decideIngressRecord(body({ tenantid: 'globex' }), USER, rules))).toBe(
      'producer-not-authorised:tenant',
    );
    expect(reasonOf(decideIngressRecord(body({ source: '/payroll' }), USER, rules))).toBe(
      'producer-not-authorised:source',
    );
    const hold = JSON.stringify(examples['privacy.legal-hold.placed.v1']);
    expect(reasonOf(decideIngressRecord(hold, USER, rules))).toBe('producer-not-authorised:type');
  });

  it('refuses a sender no registration names, or none at all, before reading the body', () => {
    // Act + Assess
    for (const sender of ['AIDAUNKNOWN000000001', '', undefined])
      expect(reasonOf(decideIngressRecord('not json', sender, rules))).toBe(
        'producer-not-authorised:sender',
      );
    // a registered sender's malformed body keeps its contract reason
    expect(reasonOf(decideIngressRecord('not json', USER, rules))).toBe('invalid-json');
  });

  it("knows a role by its unique id whatever the session, and '*' allows everything", () => {
    // Act + Assess
    const other = body({ tenantid: 'globex', source: '/anything' });
    expect(reasonOf(decideIngressRecord(other, `${ROLE}:job-42`, rules))).toBe('ok');
    expect(reasonOf(decideIngressRecord(other, ROLE, rules))).toBe('ok');
    expect(reasonOf(decideIngressRecord(other, `${USER}:session`, rules))).toBe(
      'producer-not-authorised:sender',
    );
  });

  it.each([
    [{ senderId: 'not-an-id' }, 'producers.acme.senderId must be an IAM unique id'],
    [{ senderId: ROLE }, 'producers.acme.senderId must be the unique id of the principal: AIDA'],
    [{ principal: 'acme' }, 'producers.acme.principal must be an IAM user or role ARN'],
    [{ tenants: [] }, 'producers.acme.tenants'],
    [{ tenants: ['Acme SAS'] }, 'producers.acme.tenants'],
    [{ types: ['privacy.document.deleted.v1'] }, 'producers.acme.types'],
    [{ sources: 'any' }, 'producers.acme.sources'],
    [{ extra: true }, 'producers.acme'],
  ])('refuses an invalid entry %j naming it', (change, message) => {
    // Act + Assess
    const load = () => loadProducerRegistry({ version: 1, producers: { acme: entry(change) } });
    expect(load).toThrow(ConfigurationError);
    expect(load).toThrow(message);
  });

  it('refuses two registrations of one principal', () => {
    // Act + Assess
    expect(() =>
      loadProducerRegistry({ version: 1, producers: { a: entry(), b: entry() } }),
    ).toThrow('producers.b.senderId is already the sender of a');
  });

  it('reads PRODUCERS_FILE when set, else the bundled file; the local file registers moto', () => {
    // Act
    const local = defaultProducerRegistry({ PRODUCERS_FILE: LOCAL_PRODUCERS_FILE });
    // Assess
    expect(defaultProducerRegistry({}).producers).toEqual(bundledProducerRegistry().producers);
    expect(local.producerOf('AIDAIT2UOQQY3AUEKVGXU')).toMatchObject({
      tenants: '*',
      sources: '*',
      types: '*',
    });
    expect(() => defaultProducerRegistry({ PRODUCERS_FILE: '/nonexistent.json' })).toThrow(
      'producer registry /nonexistent.json cannot be read as JSON',
    );
  });
});
