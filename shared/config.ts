import { ConfigurationError } from './errors';

/**
 * Reads a required environment variable once, failing fast with the variable's name. The names
 * come from the function declarations (`shared/functions/declarations.ts`), from which infra
 * sets each variable together with the grants that go with it.
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
