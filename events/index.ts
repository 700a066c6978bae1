/** The wire contract v1 (docs/events.md): schemas, inferred types, and the producer helper. */
export * from './common';
export * from './envelope';
export * from './types';
export * from './json-schema';
export * from './producer';
