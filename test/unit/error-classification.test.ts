import { asPermanent, isTransient, PermanentError, TransientError } from '../../shared/errors';

describe('error classification', () => {
  it('never counts a deterministic JavaScript error as transient, and rejects it with its name', () => {
    // Prepare: what Node throws for a header value with a non-ASCII character
    const header = new TypeError('Invalid character in header content ["x-amz-meta-request-id"]');
    const range = new RangeError('Invalid time value');
    // Act
    const transient = [isTransient(header), isTransient(range)];
    const permanent = asPermanent(header);
    // Assess
    expect(transient).toEqual([false, false]);
    expect(permanent).toBeInstanceOf(PermanentError);
    expect(permanent?.reason).toBe('unprocessable:TypeError');
    expect(permanent?.message).not.toContain('x-amz-meta');
  });

  it('keeps network, throttling and unknown errors transient, and ours as they say', () => {
    // Prepare
    const reset = Object.assign(new TypeError('socket hang up'), { code: 'ECONNRESET' });
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    const unknown = new Error('something');
    // Act
    const results = [reset, throttled, unknown].map((e) => [isTransient(e), asPermanent(e)]);
    // Assess
    expect(results).toEqual([
      [true, undefined],
      [true, undefined],
      [true, undefined],
    ]);
    expect(asPermanent(new TransientError('t', 'x'))).toBeUndefined();
    expect(asPermanent(new PermanentError('p', 'x'))?.reason).toBe('p');
  });
});
