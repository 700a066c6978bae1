import { ConfigurationError } from './errors';

/**
 * Reads a required environment variable once, failing fast with the variable's name.
 * Only infra names the variables; a construct that sets one also grants what goes with it.
 */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(
      'missing-config',
      `Environment variable ${name} is required but not set`,
    );
  }
  return value;
}

/** Reads an optional environment variable, with a default. */
export function optionalEnv(
  name: string,
  fallback: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value;
}

/** Reads a positive integer environment variable, refusing anything else. */
export function intEnv(
  name: string,
  fallback: number,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigurationError(
      'invalid-config',
      `Environment variable ${name} must be a non-negative integer, got "${raw}"`,
    );
  }
  return value;
}
