import type { LogObjects } from './log-object-check';
import type { LogEntry } from './writer';

/**
 * What a durable marker written before an effect (an upload's retention item, an expiry's claim)
 * remembers of the log: the object its records were queued for, and when.
 */
export interface LogPointer {
  /** Key of the processing-log object the effect's records were queued for. */
  readonly logObjectKey: string;
  /** When the marker was written (ISO): until the writer's timeout its object may be in flight. */
  readonly at: string;
}

/**
 * What a re-run of an effect does about its records:
 *
 * - `logged`: the object its marker names holds them (the first run got them in): nothing more;
 * - `log-here`: that object is this invocation's and its queue lacks them (a retry within the
 *   run, after an SDK retry of a write that had succeeded): queue them, the marker is right;
 * - `in-flight`: that object is not written yet and its writer may still run: retry later;
 * - `log-again`: that object does not hold them and never will (the run died): log them in this
 *   invocation's object, after pointing the marker at it (so a later re-run does not log them a
 *   third time).
 */
export type LogPointerDecision = 'logged' | 'log-here' | 'in-flight' | 'log-again';

/**
 * The rule every re-run of an effect follows, whatever the effect: a marker written before the
 * effect names the log object its records were queued for; the records are logged again only when
 * that object does not hold them and its writer is dead (`inFlightMs` after the marker).
 */
export async function logPointerDecision(
  log: LogObjects,
  pointer: LogPointer,
  first: LogEntry,
  now: Date,
  inFlightMs: number,
): Promise<LogPointerDecision> {
  const held = await log.holds(pointer.logObjectKey, first);
  if (held) return 'logged';
  if (pointer.logObjectKey === log.objectKey) return 'log-here';
  if (held === undefined && writerMayRun(pointer, now, inFlightMs)) return 'in-flight';
  return 'log-again';
}

/**
 * True while the run that wrote `pointer` may still be writing its log object: less than
 * `inFlightMs` (that run's function timeout) has passed since the marker.
 */
export function writerMayRun(pointer: LogPointer, now: Date, inFlightMs: number): boolean {
  return now.getTime() - Date.parse(pointer.at) < inFlightMs;
}
