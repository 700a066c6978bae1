import { subjectKey, type RequestItem } from '../retention/retention-items';
import { addPeriod, isoOf, ONE_MONTH } from '../retention/schedule';
import type { OperationContext } from './context';

/** A request of a data subject (erasure, access) as it arrives. */
interface SubjectRequestEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly tenantid: string;
  readonly data: {
    readonly subjectId: string;
    readonly requestId: string;
    readonly receivedAt: string;
  };
}

/** The fields every log entry of a subject's request carries. */
export interface RequestFields {
  readonly tenant: string;
  readonly subject: string;
  /** The keyed pseudonym of the request id (never the id a producer chose, in clear). */
  readonly requestId: string;
  readonly deadline: string;
  readonly eventId: string;
  readonly eventSource: string;
  readonly eventType: string;
}

/**
 * Records a subject's request at receipt, with its deadline one month later (GDPR Art. 12(3)),
 * and returns the fields every log entry of the request carries. Keeps the first record on a
 * replay. The request is known by the keyed pseudonym of its id from here on (`requestId`: log,
 * retention table, export metadata); only the controller's export manifest shows the id.
 */
export async function openSubjectRequest(
  ctx: OperationContext,
  event: SubjectRequestEvent,
  requestKind: RequestItem['requestKind'],
) {
  const tenant = event.tenantid;
  const subject = await ctx.pseudonyms.subject(tenant, event.data.subjectId);
  const requestId = await ctx.pseudonyms.request(tenant, event.data.requestId);
  const pk = subjectKey(tenant, subject);
  const receivedAt = isoOf(event.data.receivedAt);
  const deadline = addPeriod(new Date(receivedAt), ONE_MONTH).toISOString();
  const common: RequestFields = {
    tenant,
    subject,
    requestId,
    deadline,
    eventId: event.id,
    eventSource: event.source,
    eventType: event.type,
  };
  const request = await ctx.store.openRequest(pk, {
    tenant,
    subject,
    requestKind,
    requestId,
    receivedAt,
    deadline,
  });
  return { tenant, subject, pk, requestId, deadline, common, request };
}
