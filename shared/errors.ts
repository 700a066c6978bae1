/**
 * One error family for the whole pipeline. Every error says whether retrying can help:
 * a transient error is retried (partial batch response, then the dead-letter queue after the
 * queue's redrive limit); a permanent error goes to the dead-letter queue at once with its reason.
 */
export abstract class PrivacyOpsError extends Error {
  /** True when retrying the same input later can succeed. */
  abstract readonly transient: boolean;
  /** Short machine-readable reason, safe to log (never personal data). */
  readonly reason: string;

  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
    this.name = new.target.name;
  }
}

/** Input that can never be processed: invalid, unauthorised, unknown. Not retried. */
export class PermanentError extends PrivacyOpsError {
  readonly transient = false;
}

/** A failure of a dependency that may pass: throttling, 5xx, timeouts. Retried. */
export class TransientError extends PrivacyOpsError {
  readonly transient = true;
}

/** Configuration missing or invalid at start-up: the function must not run. */
export class ConfigurationError extends PrivacyOpsError {
  readonly transient = false;
}

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'KMSInternalException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TransactionInProgressException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/**
 * Errors JavaScript itself throws for a given input (an invalid header value, a bad argument, an
 * out-of-range number): the same input fails the same way every time.
 */
const DETERMINISTIC_NAMES = new Set([
  'TypeError',
  'RangeError',
  'SyntaxError',
  'ReferenceError',
  'URIError',
  'EvalError',
]);

/**
 * Whether an error is the SDK failing to read a service's answer (a 5xx page from a proxy, a body
 * cut short): it carries the answer (`$response`, or the text it could not parse). The answer was
 * bad, not the input, so a retry may pass.
 */
function isUnreadableAnswer(error: { name?: unknown }): boolean {
  return (
    typeof error.name === 'string' &&
    DETERMINISTIC_NAMES.has(error.name) &&
    ('$responseBodyText' in error || '$response' in error)
  );
}

/**
 * Whether an error fails the same way for the same input, whatever the time: one of JavaScript's
 * own errors (by name: a bundle's realm may differ) without a network error code, not thrown while
 * reading a service's answer. Never transient.
 */
export function isDeterministic(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; code?: unknown };
  if (typeof e.code === 'string' && TRANSIENT_NAMES.has(e.code)) return false;
  if (isUnreadableAnswer(e)) return false;
  return typeof e.name === 'string' && DETERMINISTIC_NAMES.has(e.name);
}

/**
 * The permanent error an error amounts to, or undefined when a retry may help: a permanent error
 * of ours as it is; a deterministic one ({@link isDeterministic}) as `unprocessable:<name>` (its
 * message is not kept: it may quote the input).
 */
export function asPermanent(error: unknown): PrivacyOpsError | undefined {
  if (error instanceof PrivacyOpsError) return error.transient ? undefined : error;
  if (isDeterministic(error)) {
    const name = (error as Error).name;
    return new PermanentError(`unprocessable:${name}`, `the event cannot be processed (${name})`, {
      cause: error,
    });
  }
  return undefined;
}

/**
 * Whether an error (ours or from the AWS SDK) can pass on retry. A deterministic error never can;
 * other unknown errors count as transient.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof PrivacyOpsError) return error.transient;
  if (typeof error !== 'object' || error === null) return true;
  if (isDeterministic(error)) return false;
  if (isUnreadableAnswer(error)) return true;
  const e = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  if (e.$retryable) return true;
  if (e.name && TRANSIENT_NAMES.has(e.name)) return true;
  if (e.code && TRANSIENT_NAMES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  return true;
}

/**
 * Whether DynamoDB refused a conditional write: a `ConditionExpression` that did not hold
 * (`ConditionalCheckFailedException`), or a transaction cancelled because one of its conditions
 * did not (`TransactionCanceledException`). The caller decides what the refusal means (another
 * writer won, the item changed): it is never retried as such.
 */
export function isConditionalWriteRefused(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

/** Whether an S3 error says there is no such object (or version): `NoSuchKey`, `NotFound`, 404. */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
