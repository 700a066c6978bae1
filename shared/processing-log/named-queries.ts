/**
 * Named queries for auditors over the processing log, in SQL that runs on Athena (Trino) and on
 * DuckDB (locally). Placeholders:
 * - `{{table}}`: the log table (Athena `"database"."table"`, DuckDB the view of the same name);
 * - `{{name}}` for each parameter: replaced by a quoted SQL string literal;
 * - `{{ts:expr}}`: the ISO 8601 text `expr` as a timestamp with time zone, the only
 *   dialect-specific bit (`from_iso8601_timestamp` on Athena, a cast on DuckDB).
 *
 * A request is the `received` record that carries a `requestId` (erasure and access requests;
 * its `deadline` is the one-month deadline of GDPR Art. 12(3), or receipt + 1 month when absent);
 * it is completed by the first `request-completed` record of the same tenant and `requestId`.
 * `deleted` counts the successful deletions of data (documents, `erased` or `expired` with a
 * category), not the keys shredded with them, copies such as exports, or deferrals; `deferred`
 * counts what a legal hold deferred, and an open request with deferrals is `deferred` until its
 * deadline passes (then `overdue`).
 */

/** What a parameter names that the log holds only as a keyed pseudonym. */
export type PseudonymKind = 'subject' | 'request' | 'hold';

/** One named query: what it answers, its SQL with placeholders, its parameters. */
export interface NamedQuery {
  readonly name: string;
  readonly description: string;
  readonly sql: string;
  readonly parameters?: string[];
  /**
   * Parameters that name a subject, request or hold: the CLI takes the id (and `--tenant`) and
   * passes its pseudonym, or the pseudonym itself.
   */
  readonly pseudonyms?: Readonly<Record<string, PseudonymKind>>;
}

/** The columns of a query listing operations, oldest first. */
const OPERATION_COLUMNS = `"time", tenant, operation, outcome, category, legalBasis, purpose, requestId,
  deadline, retainUntil, reason, document, eventType, eventId, eventSource, actor, recordId`;

/** SQL dialects the named queries render to. */
export type SqlDialect = 'athena' | 'duckdb';

const ERASURE_TYPE = 'privacy.erasure.requested.v1';

/** Requests (optionally of one event type) with receipt, deadline, completion and status. */
function requestsSql(eventType?: string): string {
  const typeFilter = eventType ? `\n    AND eventType = '${eventType}'` : '';
  return `WITH received AS (
  SELECT tenant, requestId, min(eventType) AS eventType, min(subject) AS subject,
    min("time") AS receivedAt, min(deadline) AS deadline
  FROM {{table}}
  WHERE operation = 'received' AND requestId IS NOT NULL${typeFilter}
  GROUP BY tenant, requestId
), completed AS (
  SELECT tenant, requestId, min("time") AS completedAt
  FROM {{table}}
  WHERE operation = 'request-completed' AND requestId IS NOT NULL
  GROUP BY tenant, requestId
), actions AS (
  SELECT tenant, requestId,
    sum(CASE WHEN operation IN ('erased', 'expired') AND outcome = 'success'
      AND category IS NOT NULL THEN 1 ELSE 0 END) AS deleted,
    sum(CASE WHEN operation = 'erased' AND outcome = 'skipped'
      AND reason LIKE '%erasure-deferred-until-release%' THEN 1 ELSE 0 END) AS deferred,
    sum(CASE WHEN operation = 'restricted' THEN 1 ELSE 0 END) AS restricted,
    sum(CASE WHEN operation = 'exported' THEN 1 ELSE 0 END) AS exported
  FROM {{table}}
  WHERE requestId IS NOT NULL
  GROUP BY tenant, requestId
), requests AS (
  SELECT r.tenant, r.requestId, r.eventType, r.subject, r.receivedAt,
    coalesce({{ts:r.deadline}}, {{ts:r.receivedAt}} + INTERVAL '1' MONTH) AS due,
    c.completedAt, a.deleted, a.deferred, a.restricted, a.exported
  FROM received r
  LEFT JOIN completed c ON c.tenant = r.tenant AND c.requestId = r.requestId
  LEFT JOIN actions a ON a.tenant = r.tenant AND a.requestId = r.requestId
)
SELECT tenant, requestId, eventType, subject, receivedAt,
  date_diff('second', {{ts:receivedAt}}, due) / 86400.0 AS deadlineDays,
  completedAt,
  date_diff('second', {{ts:receivedAt}}, {{ts:completedAt}}) / 86400.0 AS completionDays,
  CASE
    WHEN completedAt IS NULL AND due < current_timestamp THEN 'overdue'
    WHEN completedAt IS NULL AND deferred > 0 THEN 'deferred'
    WHEN completedAt IS NULL THEN 'open'
    WHEN {{ts:completedAt}} <= due THEN 'on-time'
    ELSE 'late'
  END AS status,
  deleted, deferred, restricted, exported
FROM requests`;
}

/**
 * The auditors' named queries. The infrastructure declares each as an Athena named query; the CLI
 * (`privacy-ops log query <name>`) runs them on DuckDB locally or on Athena.
 */
export const NAMED_QUERIES: ReadonlyArray<NamedQuery> = [
  {
    name: 'operations-by-subject',
    description:
      'Every operation on one subject, oldest first. The subject is its pseudonym: `privacy-ops pseudonym <subjectId> --tenant <tenant>`.',
    parameters: ['subject'],
    pseudonyms: { subject: 'subject' },
    sql: `SELECT ${OPERATION_COLUMNS}
FROM {{table}}
WHERE subject = {{subject}}
ORDER BY "time", recordId`,
  },
  {
    name: 'operations-by-request',
    description:
      'Every operation of one erasure or access request, oldest first. The request id (with --tenant) or its pseudonym: `privacy-ops pseudonym --request <id> --tenant <tenant>`.',
    parameters: ['request'],
    pseudonyms: { request: 'request' },
    sql: `SELECT ${OPERATION_COLUMNS}
FROM {{table}}
WHERE requestId = {{request}}
ORDER BY "time", recordId`,
  },
  {
    name: 'operations-by-hold',
    description:
      'Every operation of one legal hold (placed, released, what it kept), oldest first. The hold id (with --tenant) or its pseudonym: `privacy-ops pseudonym --hold <id> --tenant <tenant>`.',
    parameters: ['hold'],
    pseudonyms: { hold: 'hold' },
    sql: `SELECT ${OPERATION_COLUMNS}
FROM {{table}}
WHERE requestId = {{hold}}
ORDER BY "time", recordId`,
  },
  {
    name: 'erasure-requests',
    description:
      'Erasure requests (GDPR Art. 17) with receipt, the one-month deadline, completion and what was deleted, deferred by a legal hold or restricted.',
    sql: `${requestsSql(ERASURE_TYPE)}
ORDER BY receivedAt, tenant, requestId`,
  },
  {
    name: 'requests',
    description:
      'All requests (erasure and access) with days to the deadline and days to completion.',
    sql: `${requestsSql()}
ORDER BY receivedAt, tenant, requestId`,
  },
  {
    name: 'overdue-requests',
    description:
      'Requests not completed by their deadline: completed late, or still open past the deadline.',
    sql: `SELECT * FROM (
${requestsSql()}
) q
WHERE status IN ('late', 'overdue')
ORDER BY receivedAt, tenant, requestId`,
  },
  {
    name: 'expiries-per-category-month',
    description:
      'Retention expiries per tenant, data category and month: deleted (success) and kept back (legal hold, legal duty).',
    sql: `SELECT tenant, category, substr("time", 1, 7) AS month,
  sum(CASE WHEN outcome = 'success' THEN 1 ELSE 0 END) AS expired,
  sum(CASE WHEN outcome <> 'success' THEN 1 ELSE 0 END) AS kept
FROM {{table}}
WHERE operation = 'expired'
GROUP BY tenant, category, substr("time", 1, 7)
ORDER BY month, tenant, category`,
  },
  {
    name: 'waiting-for-closure',
    description:
      'Documents stored to wait for the end of the relationship whose clock never started (no closure yet), per tenant and category, with the oldest wait.',
    sql: `WITH waiting AS (
  SELECT tenant, category, document, min("time") AS storedAt
  FROM {{table}}
  WHERE operation = 'stored' AND outcome = 'success'
    AND reason LIKE '%waiting-for-relationship-end%'
  GROUP BY tenant, category, document
), moved AS (
  SELECT DISTINCT tenant, document
  FROM {{table}}
  WHERE document IS NOT NULL AND (reason LIKE 'clock-started%'
    OR (operation IN ('erased', 'expired') AND outcome = 'success'))
)
SELECT w.tenant, w.category, count(*) AS documents, min(w.storedAt) AS oldestSince,
  date_diff('day', {{ts:min(w.storedAt)}}, current_timestamp) AS oldestDays
FROM waiting w
LEFT JOIN moved m ON m.tenant = w.tenant AND m.document = w.document
WHERE m.document IS NULL
GROUP BY w.tenant, w.category
ORDER BY oldestSince, w.tenant, w.category`,
  },
  {
    name: 'rejected-events',
    description:
      'Events the pipeline refused (sent to the dead-letter queue), with the machine-readable reason.',
    sql: `SELECT "time", tenant, actor, reason, eventType, eventSource, eventId, subject
FROM {{table}}
WHERE operation = 'rejected'
ORDER BY "time", eventId`,
  },
];

/** The named query called `name`, or an error listing the names. */
export function namedQuery(name: string): NamedQuery {
  const query = NAMED_QUERIES.find((q) => q.name === name);
  if (!query)
    throw new Error(
      `no named query "${name}"; available: ${NAMED_QUERIES.map((q) => q.name).join(', ')}`,
    );
  return query;
}

/** A SQL string literal (single quotes doubled). */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Renders SQL for a dialect: the table, the timestamp parsing, and each `{{parameter}}` as a
 * string literal. Refuses a missing parameter.
 */
export function renderSql(
  sql: string,
  options: {
    readonly dialect: SqlDialect;
    readonly table: string;
    readonly params?: Readonly<Record<string, string>>;
  },
): string {
  const params = options.params ?? {};
  return sql
    .replace(/\{\{ts:([^}]+)\}\}/g, (_, expr: string) =>
      options.dialect === 'athena'
        ? `from_iso8601_timestamp(${expr.trim()})`
        : `CAST(${expr.trim()} AS TIMESTAMP WITH TIME ZONE)`,
    )
    .replace(/\{\{table\}\}/g, options.table)
    .replace(/\{\{([A-Za-z][A-Za-z0-9_-]*)\}\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new Error(`missing parameter: --param ${name}=<value>`);
      return sqlString(value);
    });
}
