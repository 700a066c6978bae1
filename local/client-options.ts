/**
 * The options of an AWS SDK client that talks to the local endpoint: its URL, the region, and
 * placeholder credentials (the local endpoint checks no signature). The one place tests, the
 * bench, the demo and the local runtime build their own clients from.
 */
export interface LocalClientOptions {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Path-style addressing, for S3 (`bucket.127.0.0.1` does not resolve). */
  readonly forcePathStyle: true;
}

/** Client options for the local endpoint at `endpoint` (S3 clients path-style). */
export function localClientOptions(endpoint: string, region = 'eu-west-3'): LocalClientOptions {
  return {
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    forcePathStyle: true,
  };
}
