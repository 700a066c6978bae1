import { functionServices } from '../shared/functions/services';

const services = functionServices('checkpointer');
const { checkpoints, logger } = services;

/**
 * Checkpointer (every 5 minutes, and on demand): appends the log objects written since the last
 * checkpoint to the processing log's Merkle tree and writes a signed checkpoint of it. Logs and
 * returns sizes and counts only.
 */
export const handler = async () => {
  const run = await checkpoints.run();
  if (run.skipped.length > 0)
    logger.warn('log objects or checkpoint entries passed over', { skipped: run.skipped });
  logger.info('checkpoint', { ...run, skipped: run.skipped.length });
  return run;
};
