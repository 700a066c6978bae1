import type { ProcessingLogRecord } from '../../shared/processing-log/record';
import { exactly, noDuplicateIds } from '../integration/record-checks';

/** Records that differ only by record id (the checks look at nothing else). */
const records = (...ids: string[]) => ids.map((recordId) => ({ recordId }) as ProcessingLogRecord);

describe('record checks of the crash-point tests', () => {
  it('names the effect and both counts when the count is not the expected one', () => {
    // Prepare
    const two = records('a', 'b');
    // Act / Assess
    expect(exactly(two, 'the shred', 2)).toEqual([]);
    expect(exactly(two, 'the shred', 1)).toEqual(['2 records of the shred, not 1']);
    expect(exactly([], 'the completion', 1)).toEqual(['0 records of the completion, not 1']);
  });

  it('finds a record id logged twice', () => {
    expect(noDuplicateIds(records('a', 'b'))).toEqual([]);
    expect(noDuplicateIds(records('a', 'b', 'a'))).toEqual(['a record id logged twice']);
  });
});
