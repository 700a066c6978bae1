/** The wire contract v1 (EVENTS.md): schemas, inferred types, and the producer helper. */
export * from './common';
export * from './envelope';
export * from './types';
export * from './json-schema';
export * from './producer';
