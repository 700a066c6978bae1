import { matchesPattern, passesFilterCriteria } from '../../local/event-filter';

describe('local event filtering (Lambda FilterCriteria semantics)', () => {
  const ttlPattern = {
    eventName: ['REMOVE'],
    userIdentity: { type: ['Service'], principalId: ['dynamodb.amazonaws.com'] },
  };

  it('passes a TTL deletion', () => {
    const record = {
      eventName: 'REMOVE',
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    };
    expect(matchesPattern(ttlPattern, record)).toBe(true);
  });

  it('drops a deletion made by a user or without userIdentity', () => {
    expect(
      matchesPattern(ttlPattern, {
        eventName: 'REMOVE',
        userIdentity: { type: 'User', principalId: 'x' },
      }),
    ).toBe(false);
    expect(matchesPattern(ttlPattern, { eventName: 'REMOVE' })).toBe(false);
    expect(matchesPattern(ttlPattern, { eventName: 'INSERT' })).toBe(false);
  });

  it('supports prefix, exists, anything-but and numeric rules', () => {
    expect(matchesPattern({ a: [{ prefix: 'pri' }] }, { a: 'privacy' })).toBe(true);
    expect(matchesPattern({ a: [{ exists: false }] }, {})).toBe(true);
    expect(matchesPattern({ a: [{ 'anything-but': ['x'] }] }, { a: 'y' })).toBe(true);
    expect(matchesPattern({ a: [{ numeric: ['>', 1, '<=', 5] }] }, { a: 5 })).toBe(true);
    expect(matchesPattern({ a: [{ numeric: ['>', 1, '<=', 5] }] }, { a: 6 })).toBe(false);
  });

  it('matches an SQS body as JSON', () => {
    const criteria = {
      Filters: [{ Pattern: JSON.stringify({ body: { type: ['privacy.document.uploaded.v1'] } }) }],
    };
    expect(
      passesFilterCriteria(criteria, { body: '{"type":"privacy.document.uploaded.v1"}' }),
    ).toBe(true);
    expect(passesFilterCriteria(criteria, { body: '{"type":"other"}' })).toBe(false);
    expect(passesFilterCriteria(undefined, { body: 'anything' })).toBe(true);
  });
});
