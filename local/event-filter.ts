/**
 * Lambda event filtering (FilterCriteria patterns) as the event source mappings apply it:
 * exact values, `prefix`, `suffix`, `exists`, `anything-but` and `numeric` comparisons, nested objects.
 * For SQS the `body` is matched as JSON when it parses.
 */
export function matchesPattern(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.some((p) => matchesRule(p, value));
  if (pattern !== null && typeof pattern === 'object') {
    if (value === null || typeof value !== 'object') {
      return Object.values(pattern).every(
        (p) => Array.isArray(p) && p.some((r) => isExistsFalse(r)),
      );
    }
    return Object.entries(pattern as Record<string, unknown>).every(([key, sub]) =>
      matchesPattern(sub, (value as Record<string, unknown>)[key]),
    );
  }
  return pattern === value;
}

function isExistsFalse(rule: unknown): boolean {
  return (
    typeof rule === 'object' && rule !== null && (rule as { exists?: boolean }).exists === false
  );
}

function matchesRule(rule: unknown, value: unknown): boolean {
  if (rule === null || typeof rule !== 'object') {
    return Array.isArray(value) ? value.includes(rule) : value === rule;
  }
  const r = rule as Record<string, unknown>;
  if ('exists' in r) return r.exists ? value !== undefined : value === undefined;
  if (value === undefined) return false;
  if ('prefix' in r) return typeof value === 'string' && value.startsWith(String(r.prefix));
  if ('suffix' in r) return typeof value === 'string' && value.endsWith(String(r.suffix));
  if ('anything-but' in r) {
    const excluded = Array.isArray(r['anything-but'])
      ? (r['anything-but'] as unknown[])
      : [r['anything-but']];
    return !excluded.includes(value);
  }
  if ('numeric' in r) {
    const ops = r.numeric as unknown[];
    const n = Number(value);
    for (let i = 0; i < ops.length; i += 2) {
      const bound = Number(ops[i + 1]);
      const ok =
        ops[i] === '='
          ? n === bound
          : ops[i] === '<'
            ? n < bound
            : ops[i] === '<='
              ? n <= bound
              : ops[i] === '>'
                ? n > bound
                : n >= bound;
      if (!ok) return false;
    }
    return true;
  }
  return matchesPattern(rule, value);
}

/** Whether a record passes any of the FilterCriteria's filters (no criteria: everything passes). */
export function passesFilterCriteria(
  criteria: { Filters?: Array<{ Pattern: string }> } | undefined,
  record: Record<string, unknown>,
): boolean {
  const filters = criteria?.Filters ?? [];
  if (filters.length === 0) return true;
  let subject = record;
  if (typeof record.body === 'string') {
    try {
      subject = { ...record, body: JSON.parse(record.body) };
    } catch {
      // a non-JSON body is matched as a string
    }
  }
  return filters.some((f) => matchesPattern(JSON.parse(f.Pattern), subject));
}
