import type { Context } from 'aws-lambda';
import { logWriterFor, servicesFromEnvironment } from '../shared/operations/environment';
import { RetentionSweeper } from '../shared/operations/retention-sweep';

const services = servicesFromEnvironment();
const sweeper = new RetentionSweeper(services.context);
const log = logWriterFor('retention-sweep', services.s3);

/** Retention sweep (hourly schedule): expires every due document TTL has not removed yet. */
export const handler = async (_event: unknown, context: Context) => {
  const { entries: _entries, ...result } = await sweeper.sweep(
    log,
    () => context.getRemainingTimeInMillis() < 60_000,
  );
  return result;
};
