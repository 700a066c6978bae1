import type { EventType } from '../../events';

/** The queue-fed operations of the pipeline, each one function with its own input queue. */
export const QUEUE_OPERATIONS = [
  'document-upload',
  'account-closure',
  'erasure-request',
  'access-request',
  'legal-hold',
] as const;

/** The name of a queue-fed operation (also its function's entry `functions/<name>.ts`). */
export type QueueOperation = (typeof QUEUE_OPERATIONS)[number];

/**
 * The operation that handles each event type: the one table the stack (which queue the intake
 * forwards to), the intake, the local runtime and the benchmarks read. Holds placed and released
 * share one operation, and so do closures and reopenings, so that their order rules live in one
 * place.
 */
export const OPERATION_OF_EVENT: Readonly<Record<EventType, QueueOperation>> = {
  'privacy.document.uploaded.v1': 'document-upload',
  'privacy.account.closed.v1': 'account-closure',
  'privacy.account.reopened.v1': 'account-closure',
  'privacy.erasure.requested.v1': 'erasure-request',
  'privacy.access.requested.v1': 'access-request',
  'privacy.legal-hold.placed.v1': 'legal-hold',
  'privacy.legal-hold.released.v1': 'legal-hold',
};

/** The event types an operation handles, in contract order. */
export function eventTypesOf(operation: QueueOperation): EventType[] {
  return (Object.keys(OPERATION_OF_EVENT) as EventType[]).filter(
    (type) => OPERATION_OF_EVENT[type] === operation,
  );
}
