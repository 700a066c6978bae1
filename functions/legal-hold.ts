import { TransientError } from '../shared/errors';

/** Placeholder until the operation lands: fails so that nothing is acknowledged unprocessed. */
export const handler = async (): Promise<never> => {
  throw new TransientError('not-implemented', 'legal-hold is not implemented yet');
};
