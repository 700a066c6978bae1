import * as z from 'zod/mini';
import { EVENT_SCHEMAS, EVENT_TYPES, type EventType } from './types';

/** Base URI of the published JSON Schemas (`$id` of each file). */
export const SCHEMA_ID_BASE = 'https://privacy-ops.dev/events/schemas/';

/** Path of the JSON Schema file of `type`, relative to the repository root. */
export function schemaFileOf(type: EventType): string {
  return `events/schemas/${type}.json`;
}

/**
 * The JSON Schema (draft 2020-12) of one event type, generated from its zod schema: what a
 * producer written in another language validates against. Never edited by hand.
 */
export function eventJsonSchema(type: EventType): Record<string, unknown> {
  const generated = z.toJSONSchema(EVENT_SCHEMAS[type], { io: 'input' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: `${SCHEMA_ID_BASE}${type}.json`,
    title: type,
    description: `CloudEvents 1.0 event (structured JSON mode) of type ${type}, wire contract v1. Generated from events/types.ts by scripts/generate-event-schemas.ts; do not edit.`,
    ...rest,
  };
}

/** The text of every schema file, by path, exactly as committed (2-space JSON, final newline). */
export function eventJsonSchemaFiles(): Record<string, string> {
  return Object.fromEntries(
    EVENT_TYPES.map((type) => [
      schemaFileOf(type),
      `${JSON.stringify(eventJsonSchema(type), null, 2)}\n`,
    ]),
  );
}
