import { exampleEvents } from '../../events/examples';
import { rejectionIdentifiers, rejectionRecord } from '../../shared/batch/rejection-record';

const upload = exampleEvents('po1234-upload')['privacy.document.uploaded.v1'];
const PSEUDONYM = 'b'.repeat(64);
const pseudonyms = { subject: async (tenant: string, id: string) => `${PSEUDONYM}` + tenant + id };

describe('rejectionIdentifiers', () => {
  it('keeps well-formed identifiers, drops invalid ones and never returns the subject as an id', () => {
    // Prepare
    const raw = { ...upload, id: 'emp-00042', source: 'has space', tenantid: 'acme-sas' };
    // Act
    const ids = rejectionIdentifiers(raw);
    const unknown = rejectionIdentifiers({ tenantid: 'BAD', data: { subjectId: 'emp-1' } });
    // Assess
    expect(ids).toEqual({
      tenant: 'acme-sas',
      subjectId: 'emp-00042',
      eventId: null,
      eventSource: null,
      eventType: 'privacy.document.uploaded.v1',
    });
    expect(unknown).toEqual({
      tenant: 'unknown',
      subjectId: null,
      eventId: null,
      eventSource: null,
      eventType: null,
    });
  });
});

describe('rejectionRecord', () => {
  it('shows the subject only as its pseudonym, and the tenant as unknown when invalid', async () => {
    // Prepare
    const raw = { ...upload, id: 'emp-00042' };
    // Act
    const valid = await rejectionRecord(raw, 'wrong-bucket', pseudonyms);
    const unknown = await rejectionRecord(
      { ...raw, tenantid: 'BAD' },
      'invalid-field:tenantid',
      pseudonyms,
    );
    const noJson = await rejectionRecord(undefined, 'invalid-json', pseudonyms, 'r'.repeat(32));
    // Assess
    expect(valid).toEqual({
      tenant: 'acme-sas',
      operation: 'rejected',
      outcome: 'rejected',
      subject: `${PSEUDONYM}acme-sasemp-00042`,
      eventId: null,
      eventSource: '/expense-service',
      eventType: 'privacy.document.uploaded.v1',
      reason: 'wrong-bucket',
    });
    expect(unknown).toMatchObject({ tenant: 'unknown', subject: null, eventId: null });
    expect(noJson).toEqual({
      recordId: 'r'.repeat(32),
      tenant: 'unknown',
      operation: 'rejected',
      outcome: 'rejected',
      subject: null,
      eventId: null,
      eventSource: null,
      eventType: null,
      reason: 'invalid-json',
    });
  });
});
