import type { Context } from 'aws-lambda';
import { functionServices } from '../shared/functions/services';
import { RetentionSweeper } from '../shared/operations/retention-sweep';
import { VaultReconciler } from '../shared/operations/vault-reconciliation';

const services = functionServices('retention-sweep');
const sweeper = new RetentionSweeper(services);
const reconciler = new VaultReconciler(services);
const { log, logger } = services;

/**
 * Retention sweep (hourly schedule): expires every due document TTL has not removed yet, counts
 * the overdue requests (metric `OverdueRequests`), then, with the time left, goes on reconciling
 * the vault with the retention table (metric `VaultOrphans`). Logs and returns counts only.
 */
export const handler = async (_event: unknown, context: Context) => {
  const shouldStop = () => context.getRemainingTimeInMillis() < 60_000;
  const { entries: _entries, ...result } = await sweeper.sweep(log, shouldStop);
  logger.info('retention sweep', { ...result });
  const { entries: _reconciled, ...reconciliation } = await reconciler.reconcile(log, shouldStop);
  logger.info('vault reconciliation', { ...reconciliation });
  return { ...result, reconciliation };
};
