import type { DeadLetter } from '../../cli/dead-letter-queue';
import {
  groupByReason,
  maskedEnvelope,
  redriveRefusal,
  redrivenEntry,
} from '../../cli/dlq-commands';
import { exampleEvents } from '../../events/examples';

const letter = (messageId: string, body: string, reason?: string): DeadLetter => ({
  messageId,
  body,
  reason: reason ?? '(none: receive limit reached)',
  attributes: reason ? { 'rejection-reason': { DataType: 'String', StringValue: reason } } : {},
  system: {},
  receiptHandle: `rh-${messageId}`,
});

describe('dead letters as operators see them: identifiers only', () => {
  it('masks every data value, and an envelope field that carries the subject id', () => {
    // Prepare: a producer that put the subject id in the event id as well
    const body = JSON.stringify({
      specversion: '1.0',
      id: 'jane.doe@example.com',
      source: '/crm',
      type: 'privacy.erasure.requested.v1',
      tenantid: 'acme-sas',
      data: { subjectId: 'jane.doe@example.com', categories: ['contract'], note: { free: 'text' } },
    });
    // Act
    const masked = JSON.stringify(maskedEnvelope(body));
    // Assess
    expect(masked).not.toContain('jane.doe');
    expect(masked).not.toContain('contract');
    expect(masked).not.toContain('text');
    expect(masked).toContain('"tenantid":"acme-sas"');
    expect(masked).toContain('"source":"/crm"');
    expect(masked).toContain('"categories":["‹masked: 8 characters›"]');
  });

  it('describes a body that is not JSON by its size only', () => {
    // Act / Assess
    expect(maskedEnvelope('{jane.doe')).toBe(
      '‹body is not a JSON object: 9 bytes; --reveal prints it›',
    );
  });

  it('groups by reason, largest first, with the receive-limit messages apart', () => {
    // Prepare
    const valid = JSON.stringify({
      type: 'privacy.account.closed.v1',
      tenantid: 'beta-gmbh',
      id: 'e1',
    });
    const letters = [
      letter('m1', valid, 'upload-missing'),
      letter('m2', valid, 'upload-missing'),
      letter('m3', '{oops', 'invalid-json'),
      letter('m4', valid),
    ];
    // Act
    const groups = groupByReason(letters);
    const entry = redrivenEntry(letters[3]!);
    // Assess
    expect(groups.map((g) => [g.reason, g.count])).toEqual([
      ['upload-missing', 2],
      ['(none: receive limit reached)', 1],
      ['invalid-json', 1],
    ]);
    expect(groups[0]!.sample).toEqual({
      messageId: 'm1',
      type: 'privacy.account.closed.v1',
      tenant: 'beta-gmbh',
      reason: 'upload-missing',
      detail: null,
    });
    expect(groups[2]!.sample.tenant).toBe('unknown');
    expect(entry).toMatchObject({
      tenant: 'beta-gmbh',
      operation: 'redriven',
      eventId: 'e1',
      reason: 'redriven-after:receive-limit',
    });
  });
});

describe('what a redrive sends back', () => {
  const valid = JSON.stringify(exampleEvents('po-upload')['privacy.erasure.requested.v1']);

  it('sends a valid event back, and leaves one the intake still refuses with its reason', () => {
    // Act + Assess
    expect(redriveRefusal(letter('m1', valid, 'upload-missing'), 'po-upload')).toBeUndefined();
    expect(redriveRefusal(letter('m2', 'not json', 'invalid-json'), 'po-upload')).toMatch(
      /invalid-json/,
    );
  });

  it.each(['sender', 'source', 'tenant', 'type'])(
    'leaves producer-not-authorised:%s: the operator would send as another principal',
    (what) => {
      // Act + Assess
      expect(
        redriveRefusal(letter('m3', valid, `producer-not-authorised:${what}`), 'po-upload'),
      ).toMatch(/the producer sends it again once registered/);
    },
  );
});
