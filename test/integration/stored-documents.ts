import type { DocumentItem } from '../../shared/retention/retention-items';
import type { FaultInjector } from '../support/fault-injector';
import { attempt, freshInstance, sqsEvent } from './crash-harness';
import type { OperationsHarness } from './operations-harness';

/** Stores a document of `who` through the upload function; returns its item. */
export type StoreDocument = (
  who: string,
  documentId: string,
  category: string,
  documentDate?: string,
) => Promise<DocumentItem>;

/**
 * The set-up of a crash-point scenario: documents stored through a fresh instance of the upload
 * function (clock `now`) with no fault injected, the content reading `content of <documentId>`.
 * A failed upload fails the set-up, not the scenario.
 */
export function storedWithoutFaults(
  h: OperationsHarness,
  injector: FaultInjector,
  now: () => Date,
): StoreDocument {
  return async (who, documentId, category, documentDate) => {
    const event = await h.upload(who, documentId, category, `content of ${documentId}`, {
      ...(documentDate ? { documentDate } : {}),
    });
    const instance = freshInstance(h.pipeline, 'document-upload', now);
    const outcome = await attempt(injector, instance, sqsEvent(documentId, event));
    if (outcome.failed) throw new Error(`setup upload ${documentId} failed`);
    return (await h.items(who))[documentId];
  };
}
