import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  EVENT_SCHEMAS,
  EVENT_TYPES,
  eventJsonSchema,
  eventJsonSchemaFiles,
  PrivacyEvent,
  schemaFileOf,
} from '../../events';
import { exampleEvents, REQUIRED_ENVELOPE_FIELDS, REQUIRED_FIELDS } from '../../events/examples';

const root = path.resolve(__dirname, '../..');

/** Returns a deep copy of `event` without the field at dotted `field`. */
function without(event: unknown, field: string): Record<string, unknown> {
  const copy = structuredClone(event) as Record<string, unknown>;
  const parts = field.split('.');
  let node = copy;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  delete node[parts[parts.length - 1]];
  return copy;
}

describe('events/schemas: JSON Schema generated from the zod schemas', () => {
  it('has one committed file per event type, identical to what the generator writes now', () => {
    // Prepare
    const expected = eventJsonSchemaFiles();
    // Act
    const committed = Object.fromEntries(
      Object.keys(expected).map((file) => [file, readFileSync(path.join(root, file), 'utf8')]),
    );
    const onDisk = readdirSync(path.join(root, 'events/schemas')).filter((f) =>
      f.endsWith('.json'),
    );
    // Assess (on failure: run `npm run schemas` and commit the result)
    expect(committed).toEqual(expected);
    expect(onDisk.sort()).toEqual(EVENT_TYPES.map((t) => `${t}.json`).sort());
  });

  it.each(EVENT_TYPES)('%s: declares the docs/events.md required fields as required', (type) => {
    // Prepare
    const schema = JSON.parse(readFileSync(path.join(root, schemaFileOf(type)), 'utf8')) as {
      required: string[];
      properties: Record<string, { required?: string[]; properties?: Record<string, unknown> }>;
    };
    // Act
    const requiredData = [...new Set(REQUIRED_FIELDS[type].map((f) => f.split('.')[1]))];
    const nested = REQUIRED_FIELDS[type].filter((f) => f.split('.').length === 3);
    // Assess
    expect(schema.required).toEqual(expect.arrayContaining([...REQUIRED_ENVELOPE_FIELDS]));
    expect(schema.properties.data.required?.sort()).toEqual(requiredData.sort());
    expect(schema.properties.type).toEqual(expect.objectContaining({ const: type }));
    for (const field of nested) {
      const [, parent, child] = field.split('.');
      const parentSchema = schema.properties.data.properties?.[parent] as { required?: string[] };
      expect(parentSchema.required).toContain(child);
    }
  });
});

describe('wire contract v1 compatibility', () => {
  const examples = exampleEvents();

  it.each(EVENT_TYPES)('%s: the baseline example still validates', (type) => {
    // Prepare
    const event = examples[type];
    // Act
    const result = EVENT_SCHEMAS[type].safeParse(event);
    const union = PrivacyEvent.safeParse(event);
    // Assess
    expect(result.success).toBe(true);
    expect(union.success).toBe(true);
  });

  it.each(EVENT_TYPES)('%s: each required field is still required', (type) => {
    // Prepare
    const fields = [...REQUIRED_ENVELOPE_FIELDS, ...REQUIRED_FIELDS[type]];
    // Act
    const accepted = fields.filter(
      (field) => EVENT_SCHEMAS[type].safeParse(without(examples[type], field)).success,
    );
    // Assess
    expect(accepted).toEqual([]);
  });

  it.each(EVENT_TYPES)('%s: unknown optional fields and extensions are accepted', (type) => {
    // Prepare
    const event = structuredClone(examples[type]) as unknown as Record<string, unknown>;
    event.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    (event.data as Record<string, unknown>).addedInV1_1 = 'later optional field';
    // Act
    const result = EVENT_SCHEMAS[type].safeParse(event);
    // Assess
    expect(result.success).toBe(true);
  });

  it('keeps the JSON Schema of each type consistent with its zod schema on the baseline', () => {
    // Prepare
    const schemas = EVENT_TYPES.map((type) => eventJsonSchema(type));
    // Act
    const ids = schemas.map((s) => s.$id);
    // Assess
    expect(new Set(ids).size).toBe(EVENT_TYPES.length);
    expect(schemas.every((s) => s.$schema === 'https://json-schema.org/draft/2020-12/schema')).toBe(
      true,
    );
  });
});
