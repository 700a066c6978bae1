import fc from 'fast-check';
import { S3Client } from '@aws-sdk/client-s3';
import { ProcessingLogWriter, toJsonLines } from '../../shared/processing-log/writer';
import { ProcessingLogRecord } from '../../shared/processing-log/record';
import {
  appendOrder,
  compareLogPositions,
  leafOfLine,
  leafOfRecord,
  leavesOfJsonLines,
  LogPosition,
} from '../../shared/transparency/leaf';
import { MalformedError, TreeStateError } from '../../shared/transparency/errors';

/** Records as the writer makes them (no S3 call: `add` only validates and queues). */
const writer = new ProcessingLogWriter({
  s3: new S3Client({ region: 'eu-west-1' }),
  bucket: 'b',
  actor: 'erasure-request',
});
function recordsOf(tenants: readonly string[]): ProcessingLogRecord[] {
  writer.discard();
  return tenants.map((tenant, i) =>
    writer.add({
      tenant,
      operation: 'erased',
      outcome: 'success',
      subject: 'a'.repeat(64),
      reason: `item-${i}`,
    }),
  );
}

describe('leaves: one record, its stored JSON line with the newline', () => {
  it('splits a log object into leaves that are the writer bytes, and back to the same records', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 8 }),
        (tenants) => {
          // Prepare
          const records = recordsOf(tenants);
          const object = toJsonLines(records);
          // Act
          const leaves = leavesOfJsonLines(object);
          // Assess (as hex: Jest compares buffers byte by byte, slowly)
          const hex = (buffers: readonly Buffer[]) => buffers.map((b) => b.toString('hex'));
          expect(hex(leaves)).toEqual(hex(records.map(leafOfRecord)));
          expect(Buffer.concat(leaves).equals(object)).toBe(true);
          const reread = leaves.map((leaf) =>
            ProcessingLogRecord.parse(JSON.parse(leaf.toString('utf8'))),
          );
          expect(hex(reread.map(leafOfRecord))).toEqual(hex(leaves));
          const lines = leaves.map((leaf) => leaf.toString('utf8').slice(0, -1));
          expect(hex(lines.map(leafOfLine))).toEqual(hex(leaves));
        },
      ),
    );
  });

  it.each([
    ['an empty object', ''],
    ['a last line without newline', '{"a":1}\n{"b":2}'],
    ['an empty line', '{"a":1}\n\n{"b":2}\n'],
  ])('refuses %s', (_, text) => {
    // Act / Assess
    expect(() => leavesOfJsonLines(Buffer.from(text))).toThrow(MalformedError);
  });

  it('refuses a line with a newline or an empty line', () => {
    // Act / Assess
    expect(() => leafOfLine('{"a":1}\n')).toThrow(MalformedError);
    expect(() => leafOfLine('')).toThrow(MalformedError);
  });
});

describe('leaf order within an increment: writer id, seq, line', () => {
  it('orders by writer id code units (not locale), then seq and line numerically', () => {
    // Prepare
    const positions: LogPosition[] = [
      { writer: 'erasure-request/b', seq: 10, line: 1 },
      { writer: 'erasure-request/b', seq: 2, line: 2 },
      { writer: 'erasure-request/b', seq: 2, line: 1 },
      { writer: 'erasure-request/B', seq: 5, line: 1 },
      { writer: 'access-request/z', seq: 0, line: 3 },
    ];
    // Act
    const sorted = [...positions].sort(compareLogPositions);
    // Assess
    expect(sorted.map((p) => `${p.writer}#${p.seq}:${p.line}`)).toEqual([
      'access-request/z#0:3',
      'erasure-request/B#5:1',
      'erasure-request/b#2:1',
      'erasure-request/b#2:2',
      'erasure-request/b#10:1',
    ]);
  });

  it('is a total order: the result does not depend on the input order', () => {
    const position = fc.record({
      writer: fc.constantFrom('a/1', 'a/2', 'B/1', 'é/1'),
      seq: fc.nat({ max: 20 }),
      line: fc.nat({ max: 5 }),
    });
    fc.assert(
      fc.property(fc.array(position, { maxLength: 30 }), (positions) => {
        // Act
        const once = [...positions].sort(compareLogPositions);
        const reversed = [...positions].reverse().sort(compareLogPositions);
        // Assess
        expect(reversed).toEqual(once);
      }),
    );
  });

  it('puts the objects of an increment in append order, and refuses a fork', () => {
    // Prepare
    const objects = [
      { writer: 'w/2', seq: 0, key: 'k3' },
      { writer: 'w/1', seq: 1, key: 'k2' },
      { writer: 'w/1', seq: 0, key: 'k1' },
    ];
    // Act / Assess
    expect(appendOrder(objects).map((o) => o.key)).toEqual(['k1', 'k2', 'k3']);
    expect(() => appendOrder([...objects, { writer: 'w/1', seq: 1, key: 'fork' }])).toThrow(
      TreeStateError,
    );
  });
});
