import fc from 'fast-check';
import { GENESIS } from '../../shared/processing-log/writer';
import { VerifiedObject, verifyLogObjects } from '../../shared/processing-log/chain-check';

/** A valid chain of `n` objects of one writer, each with `perObject` records. */
function chain(writer: string, n: number, perObject = 2): VerifiedObject[] {
  const objects: VerifiedObject[] = [];
  let prev = GENESIS;
  for (let seq = 0; seq < n; seq += 1) {
    const digest = `${writer}-digest-${seq}`.padEnd(64, '0');
    objects.push({
      key: `dt=2026-03-14/${writer}/${seq}.jsonl.gz`,
      writer,
      seq,
      prev,
      claimedDigest: digest,
      actualDigest: digest,
      recordIds: Array.from({ length: perObject }, (_, i) => `${writer}-${seq}-${i}`),
      invalidLines: [],
    });
    prev = digest;
  }
  return objects;
}

describe('verifyLogObjects: digests and writer chains', () => {
  it('accepts any set of intact chains, in any order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 4 }),
        (lengths) => {
          // Prepare
          const objects = lengths.flatMap((n, w) => chain(`fn/w${w}`, n)).reverse();
          // Act
          const report = verifyLogObjects(objects);
          // Assess
          expect(report.problems).toEqual([]);
          expect(report.ok).toBe(true);
          expect(report.writers).toBe(lengths.length);
        },
      ),
    );
  });

  it('detects the removal of any object that is not the last of its chain', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 10 }), fc.nat(), (n, pick) => {
        // Prepare
        const objects = chain('fn/a', n);
        const removed = pick % (n - 1);
        // Act
        const report = verifyLogObjects(objects.filter((_, i) => i !== removed));
        // Assess
        expect(report.ok).toBe(false);
        expect(report.problems.map((p) => p.kind)).toEqual(['gap']);
      }),
    );
  });

  it('detects altered records (digest mismatch) and a replaced object (broken link)', () => {
    // Prepare
    const altered = chain('fn/a', 3).map((o, i) =>
      i === 1 ? { ...o, actualDigest: 'f'.repeat(64) } : o,
    );
    const replaced = chain('fn/a', 3).map((o, i) =>
      i === 1 ? { ...o, actualDigest: 'f'.repeat(64), claimedDigest: 'f'.repeat(64) } : o,
    );
    // Act
    const a = verifyLogObjects(altered);
    const r = verifyLogObjects(replaced);
    // Assess
    expect(a.problems.map((p) => p.kind)).toEqual(['digest-mismatch', 'broken-link']);
    expect(r.problems.map((p) => [p.kind, p.key])).toEqual([
      ['broken-link', 'dt=2026-03-14/fn/a/2.jsonl.gz'],
    ]);
  });

  it('reports duplicate record ids, forks, missing metadata, deletions and overwrites', () => {
    // Prepare
    const objects = chain('fn/a', 3);
    const duplicate = {
      ...objects[2]!,
      recordIds: [...objects[2]!.recordIds, objects[0]!.recordIds[0]!],
    };
    const fork = { ...objects[1]!, key: 'dt=2026-03-14/fn/a/1b.jsonl.gz', recordIds: ['other'] };
    const bare: VerifiedObject = {
      key: 'bare',
      actualDigest: 'x',
      recordIds: [],
      invalidLines: [3],
    };
    // Act
    const report = verifyLogObjects(
      [objects[0]!, objects[1]!, duplicate, fork, bare],
      [
        { key: 'gone', versions: 1, deleted: true },
        { key: 'twice', versions: 2, deleted: false },
      ],
    );
    // Assess
    expect(report.problems.map((p) => p.kind).sort()).toEqual([
      'deleted',
      'duplicate-record',
      'fork',
      'invalid-record',
      'missing-metadata',
      'overwritten',
    ]);
  });

  it('links a chain that started before the period to its predecessor, and flags a mismatch', () => {
    // Prepare
    const objects = chain('fn/a', 5);
    const inPeriod = objects.slice(3);
    const predecessor = { writer: 'fn/a', seq: 2, digest: objects[2]!.actualDigest };
    // Act
    const linked = verifyLogObjects(inPeriod, [], [predecessor]);
    const unlinked = verifyLogObjects(inPeriod, [], [{ ...predecessor, digest: 'nope' }]);
    const missing = verifyLogObjects(inPeriod);
    // Assess
    expect(linked.ok).toBe(true);
    expect(unlinked.problems.map((p) => p.kind)).toEqual(['broken-link']);
    expect(missing.problems.map((p) => p.kind)).toEqual(['gap']);
  });
});
