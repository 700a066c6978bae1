import { GetObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import type { VerifyProblem } from './chain-check';

/** What the log bucket's default Object Lock rule requires of every log object. */
export interface LockRule {
  readonly mode: string;
  /** Default retention in days (years counted as 365 days). */
  readonly days: number;
}

/** The Object Lock state of one log object, as S3 returned it with the object. */
export interface ObjectLockState {
  readonly key: string;
  readonly mode?: string;
  readonly retainUntil?: Date;
  readonly lastModified?: Date;
}

/**
 * Slack allowed between an object's write time and the start of its retention (S3 counts the
 * default retention from the moment it stores the object, a little after `LastModified` is set).
 */
const RETENTION_SLACK_MS = 60 * 60 * 1000;

/**
 * The bucket's default Object Lock rule, or why there is none to check against: no rule, or no
 * permission to read it (`s3:GetBucketObjectLockConfiguration`).
 */
export async function readLockRule(s3: S3Client, bucket: string): Promise<LockRule | string> {
  try {
    const got = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    const retention = got.ObjectLockConfiguration?.Rule?.DefaultRetention;
    if (!retention?.Mode) return 'no default retention';
    return { mode: retention.Mode, days: (retention.Days ?? 0) + (retention.Years ?? 0) * 365 };
  } catch (error) {
    return `cannot read its Object Lock configuration (${(error as Error).name})`;
  }
}

/**
 * Object Lock problems of the log: the bucket without a default rule, and each object not locked
 * in compliance mode (which nobody, the root user included, can shorten or remove) or retained
 * for less than the bucket's rule from the time it was written.
 */
export function objectLockProblems(
  objects: readonly ObjectLockState[],
  found: LockRule | string,
): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const rule = typeof found === 'string' ? undefined : found;
  if (rule?.mode !== 'COMPLIANCE')
    problems.push({
      kind: 'object-lock',
      detail: `the log bucket has no default compliance-mode retention: ${rule ? `${rule.mode} mode` : found}`,
    });
  for (const o of objects) {
    if (o.mode !== 'COMPLIANCE') {
      problems.push({
        kind: 'object-lock',
        key: o.key,
        detail: `locked in ${o.mode ?? 'no'} mode, not COMPLIANCE: its retention can be removed`,
      });
      continue;
    }
    const until = o.retainUntil?.getTime();
    const required =
      rule && o.lastModified
        ? o.lastModified.getTime() + rule.days * 86_400_000 - RETENTION_SLACK_MS
        : undefined;
    if (until === undefined || (required !== undefined && until < required))
      problems.push({
        kind: 'object-lock',
        key: o.key,
        detail: `retained until ${o.retainUntil?.toISOString() ?? 'never'}, shorter than the bucket's ${rule?.days ?? '?'} days`,
      });
  }
  return problems;
}
