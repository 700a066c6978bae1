import type { ProcessingLogRecord } from '../../shared/processing-log/record';

/*
 * Checks on the processing-log records of a crash-point scenario: each returns what is wrong, in
 * words, so that a scenario gathers every problem of a crash point before the property reports them.
 */

/** Problems with the records of one effect, `what`: expected exactly `count` of them. */
export function exactly(
  records: readonly ProcessingLogRecord[],
  what: string,
  count: number,
): string[] {
  return records.length === count ? [] : [`${records.length} records of ${what}, not ${count}`];
}

/** A problem when two of `records` share a record id (one effect logged twice). */
export function noDuplicateIds(records: readonly ProcessingLogRecord[]): string[] {
  const ids = records.map((r) => r.recordId);
  return new Set(ids).size === ids.length ? [] : ['a record id logged twice'];
}
