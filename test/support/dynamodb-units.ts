// DynamoDB on-demand request units of a call, estimated from its input and output (for the
// call counter's cost figures). Benchmarks and tests only.
/* eslint-disable @typescript-eslint/no-explicit-any */

/** Approximate stored size of a DynamoDB item (native or marshalled), per the size rules. */
export function itemSizeBytes(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'bigint') return 8;
  if (typeof value === 'boolean') return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((n: number, v) => n + itemSizeBytes(v), 3);
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + 1 + itemSizeBytes(v), 3);
  if (typeof value === 'object') {
    let n = 3;
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      n += Buffer.byteLength(k, 'utf8') + itemSizeBytes(v);
    return n;
  }
  return 8;
}

const kb = (bytes: number, unit: number) => Math.max(1, Math.ceil(bytes / unit));

/**
 * DynamoDB on-demand units of one successful call, estimated from its input and output: writes
 * 1 WRU per KB of item (Put: the item; Update: key plus the values it sets; Delete: 1),
 * transactions twice that per item (condition checks included); reads 1 RRU per 4 KB when
 * strongly consistent, half otherwise, transactional twice.
 */
export function dynamoUnits(
  operation: string,
  input: Record<string, any>,
  output: Record<string, any> | undefined,
): { writeUnits: number; readUnits: number } {
  const consistent = (i: Record<string, any>) => (i.ConsistentRead ? 1 : 0.5);
  switch (operation) {
    case 'PutItem':
      return { writeUnits: kb(itemSizeBytes(input.Item), 1024), readUnits: 0 };
    case 'UpdateItem':
      return {
        writeUnits: kb(
          itemSizeBytes(input.Key) + itemSizeBytes(input.ExpressionAttributeValues),
          1024,
        ),
        readUnits: 0,
      };
    case 'DeleteItem':
      return { writeUnits: 1, readUnits: 0 };
    case 'TransactWriteItems': {
      let units = 0;
      for (const t of (input.TransactItems ?? []) as Record<string, any>[]) {
        if (t.Put) units += 2 * kb(itemSizeBytes(t.Put.Item), 1024);
        else if (t.Update)
          units +=
            2 *
            kb(
              itemSizeBytes(t.Update.Key) + itemSizeBytes(t.Update.ExpressionAttributeValues),
              1024,
            );
        else units += 2;
      }
      return { writeUnits: units, readUnits: 0 };
    }
    case 'BatchWriteItem': {
      let units = 0;
      for (const requests of Object.values((input.RequestItems ?? {}) as Record<string, any[]>))
        for (const r of requests)
          units += r.PutRequest ? kb(itemSizeBytes(r.PutRequest.Item), 1024) : 1;
      return { writeUnits: units, readUnits: 0 };
    }
    case 'GetItem':
      return {
        writeUnits: 0,
        readUnits: kb(itemSizeBytes(output?.Item ?? {}), 4096) * consistent(input),
      };
    case 'Query':
    case 'Scan': {
      const bytes = ((output?.Items ?? []) as unknown[]).reduce(
        (n: number, item) => n + itemSizeBytes(item),
        0,
      );
      return { writeUnits: 0, readUnits: kb(bytes, 4096) * consistent(input) };
    }
    case 'TransactGetItems':
      return { writeUnits: 0, readUnits: 2 * ((input.TransactItems ?? []) as unknown[]).length };
    case 'BatchGetItem': {
      let n = 0;
      for (const t of Object.values((output?.Responses ?? {}) as Record<string, unknown[]>))
        n += t.length;
      return { writeUnits: 0, readUnits: n * 0.5 };
    }
    default:
      return { writeUnits: 0, readUnits: 0 };
  }
}
