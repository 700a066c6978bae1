import type { Context } from 'aws-lambda';
import { functionServices } from '../shared/functions/services';
import { RetentionSweeper } from '../shared/operations/retention-sweep';

const services = functionServices('retention-sweep');
const sweeper = new RetentionSweeper(services);
const { log, logger } = services;

/**
 * Retention sweep (hourly schedule): expires every due document TTL has not removed yet, then
 * counts the overdue requests (metric `OverdueRequests`). Logs and returns counts only.
 */
export const handler = async (_event: unknown, context: Context) => {
  const { entries: _entries, ...result } = await sweeper.sweep(
    log,
    () => context.getRemainingTimeInMillis() < 60_000,
  );
  logger.info('retention sweep', { ...result });
  return result;
};
