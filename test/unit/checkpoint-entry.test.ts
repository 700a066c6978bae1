import { checkpointEntryKey, sizeOfEntryKey } from '../../shared/processing-log/checkpoint-entry';
import { keyTime } from '../../shared/processing-log/checkpointer';

describe('checkpoint entry keys and writer key times', () => {
  it('names the newest checkpoint first: keys sort by size, largest first, and read back', () => {
    // Prepare
    const sizes = [0, 1, 9, 10, 12_345, 2 ** 53 - 1];
    // Act
    const keys = sizes.map(checkpointEntryKey);
    // Assess
    expect([...keys].sort()).toEqual([...keys].reverse());
    expect(keys.map(sizeOfEntryKey)).toEqual(sizes);
    expect(sizeOfEntryKey('checkpoints/state.json')).toBeUndefined();
    expect(() => checkpointEntryKey(-1)).toThrow(/bad tree size/);
  });

  it("reads the time a writer put in an object's key, and nothing from other keys", () => {
    expect(
      keyTime('dt=2026-03-14/erasure-request/2026-03-14T092653589Z-0123abcd-uuid.jsonl.gz'),
    ).toBe(Date.parse('2026-03-14T09:26:53.589Z'));
    expect(keyTime('checkpoints/9999999999999987.json')).toBeUndefined();
  });
});
