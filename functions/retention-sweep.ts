import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { logWriterFor } from '../shared/batch/log-writer';
import { servicesFromEnvironment } from '../shared/operations/environment';
import { OVERDUE_REQUESTS_METRIC } from '../shared/operations/overdue-requests';
import { RetentionSweeper } from '../shared/operations/retention-sweep';

const services = servicesFromEnvironment();
const sweeper = new RetentionSweeper(services.context);
const log = logWriterFor('retention-sweep', services.s3);
const logger = new Logger({ serviceName: OVERDUE_REQUESTS_METRIC.service });

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
