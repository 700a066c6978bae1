import { readFileSync } from 'node:fs';
import { ConfigurationError } from '../errors';

/**
 * A configuration document: the parsed JSON of the file at `pathOrObject`, or the object itself
 * when it is already parsed. Refuses a file that cannot be read as JSON with a
 * {@link ConfigurationError} (`reason`) naming the file.
 */
export function readJsonConfig(pathOrObject: unknown, reason: string, what: string): unknown {
  if (typeof pathOrObject !== 'string') return pathOrObject;
  try {
    return JSON.parse(readFileSync(pathOrObject, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(
      reason,
      `${what} ${pathOrObject} cannot be read as JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
