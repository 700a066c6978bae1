import * as z from 'zod/mini';
import { en } from 'zod/locales';

// zod/mini loads no locale: install English, as classic zod does, so issue messages stay the same.
z.config(en());

/** Version of the processing-log record schema; bump on any change, keep readers of old versions. */
export const LOG_SCHEMA_VERSION = 1;

/** Every operation the processing log records: one record per operation on personal data. */
export const LogOperation = z.enum([
  'received',
  'stored',
  'restricted',
  'exported',
  'expired',
  'erased',
  'shredded',
  'rejected',
  'hold-placed',
  'hold-released',
  'request-completed',
  /** A stored document's due date changed because the policy or an instruction changed. */
  'rescheduled',
  /** A dead-lettered event sent back to the ingress queue by an operator, after a fix. */
  'redriven',
]);
/** An operation of the processing log. */
export type LogOperation = z.infer<typeof LogOperation>;

/** How an operation ended. */
export const LogOutcome = z.enum(['success', 'kept', 'skipped', 'rejected', 'failed']);
/** An outcome of the processing log. */
export type LogOutcome = z.infer<typeof LogOutcome>;

/**
 * One record of the processing log, schema version 1. Flat columns only, so the Glue table
 * matches it column for column. No subject identifier in clear: `subject` is the keyed
 * pseudonym (KMS HMAC), and free text never carries personal data.
 */
export const ProcessingLogRecord = z.object({
  schemaVersion: z.literal(LOG_SCHEMA_VERSION),
  /** Deterministic id of the record: same effect, same id. */
  recordId: z.string().check(z.minLength(1)),
  /** When the operation happened (ISO 8601, UTC). */
  time: z.iso.datetime(),
  tenant: z.string(),
  operation: LogOperation,
  outcome: LogOutcome,
  /** Keyed pseudonym of the subject (hex HMAC-SHA256), or null when none applies. */
  subject: z.nullable(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
  category: z.nullable(z.string()),
  /** GDPR legal basis (Art. 6, and Art. 17(3) for what is kept), or null. */
  legalBasis: z.nullable(z.string()),
  purpose: z.nullable(z.string()),
  requestId: z.nullable(z.string()),
  /** Request deadline (ISO 8601), for erasure and access requests. */
  deadline: z.nullable(z.iso.datetime()),
  /** Keyed pseudonym of the document id, or null. */
  document: z.nullable(z.string()),
  eventId: z.nullable(z.string()),
  eventSource: z.nullable(z.string()),
  eventType: z.nullable(z.string()),
  /** Name of the function that acted. */
  actor: z.string(),
  /** Machine-readable reason (rejections, kept data, skipped work); never personal data. */
  reason: z.nullable(z.string()),
  /** Date after which data kept under a legal duty is deleted (ISO 8601), or null. */
  retainUntil: z.nullable(z.iso.datetime()),
});
/** One record of the processing log. */
export type ProcessingLogRecord = z.infer<typeof ProcessingLogRecord>;

/** Column order of the log, as written and as declared in the Glue table. */
export const LOG_COLUMNS = Object.keys(ProcessingLogRecord.shape) as Array<
  keyof ProcessingLogRecord
>;

/** Glue (Hive) column types the log's columns are declared with. */
export type GlueColumnType = 'string' | 'int';

/** The Glue type of one schema field: integers are `int`, everything else (text, enums, ISO dates) `string`. */
function glueTypeOf(field: z.ZodMiniType): GlueColumnType {
  const def = (
    field as unknown as { def: { type: string; innerType?: z.ZodMiniType; values?: unknown[] } }
  ).def;
  if (def.type === 'nullable' || def.type === 'optional') return glueTypeOf(def.innerType!);
  if (def.type === 'number') return 'int';
  if (def.type === 'literal' && def.values?.every((v) => typeof v === 'number')) return 'int';
  return 'string';
}

/**
 * Column → Glue type, derived from the schema (dates stay `string`: ISO 8601 text, parsed in the
 * queries, so Athena and DuckDB read the same values). The Glue table declares exactly these.
 */
export const GLUE_COLUMN_TYPES: Readonly<Record<keyof ProcessingLogRecord, GlueColumnType>> =
  Object.fromEntries(
    LOG_COLUMNS.map((column) => [column, glueTypeOf(ProcessingLogRecord.shape[column])]),
  ) as Record<keyof ProcessingLogRecord, GlueColumnType>;

/** The partition key of the log (`dt=YYYY-MM-DD/` prefixes), a Glue `string` projected as a date. */
export const LOG_PARTITION_KEY = 'dt';

/** The SerDe the Glue table reads the gzip JSON Lines objects with. */
export const LOG_SERDE = 'org.openx.data.jsonserde.JsonSerDe';
