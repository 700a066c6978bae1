import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { partitionPrefixes } from '../shared/processing-log/verify';
import { GLUE_COLUMN_TYPES, LOG_COLUMNS, LOG_PARTITION_KEY } from '../shared/processing-log/record';
import { renderSql } from '../shared/processing-log/named-queries';

/** One result row: column name → JSON value. */
export type Row = Record<string, unknown>;

/** A query result: column names in order, and rows. */
export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly Row[];
}

/** What to fetch from the log bucket. */
export interface FetchOptions {
  readonly from?: string;
  readonly to?: string;
  readonly progress?: (message: string) => void;
  readonly concurrency?: number;
}

/**
 * Downloads the current log objects (what Athena reads) of the log bucket, optionally for a
 * period of `dt=` partitions, into `dir`, keeping their keys as paths. Returns their number.
 */
export async function fetchLogObjects(
  s3: S3Client,
  bucket: string,
  dir: string,
  options: FetchOptions = {},
): Promise<number> {
  const progress = options.progress ?? (() => undefined);
  const prefixes = partitionPrefixes(options.from, options.to);
  const keys: string[] = [];
  for (const prefix of prefixes) {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key?.endsWith('.jsonl.gz')) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  progress(`fetching ${keys.length} log object(s) from ${bucket}`);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      if (key.split('/').some((part) => part === '..' || part === ''))
        throw new Error(`unexpected log object key ${key}`);
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const file = path.join(dir, key);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, Buffer.from(await object.Body!.transformToByteArray()));
      done += 1;
      if (done % 500 === 0) progress(`  ${done}/${keys.length}`);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 16, keys.length) }, worker),
  );
  return keys.length;
}

/** DuckDB types of the Glue types, so local queries see exactly what Athena sees. */
const DUCKDB_TYPES = { string: 'VARCHAR', int: 'INTEGER' } as const;

/**
 * The processing log on DuckDB: a view named like the Glue table over gzip JSON Lines files laid
 * out as in the bucket (`dt=YYYY-MM-DD/…`), with the Glue columns and types and the `dt`
 * partition column.
 */
export class DuckDbLog {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    /** Name of the view (the Glue table name). */
    readonly table: string,
    private readonly cleanup?: () => void,
  ) {}

  /** Opens DuckDB over the log files under `dir` as the view `table`. */
  static async open(dir: string, table: string, cleanup?: () => void): Promise<DuckDbLog> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new Error(`invalid table name ${table}`);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const columns = LOG_COLUMNS.map((c) => `'${c}': '${DUCKDB_TYPES[GLUE_COLUMN_TYPES[c]]}'`).join(
      ', ',
    );
    const glob = path.join(dir, 'dt=*', '**', '*.jsonl.gz').replace(/'/g, "''");
    const files = await connection.runAndReadAll(`SELECT count(*) AS n FROM glob('${glob}')`);
    const hasFiles = Number(files.getRowObjectsJson()[0]!.n) > 0;
    const source = hasFiles
      ? `SELECT ${LOG_COLUMNS.map((c) => `"${c}"`).join(', ')}, ${LOG_PARTITION_KEY} FROM read_ndjson('${glob}', columns = {${columns}}, compression = 'gzip', hive_partitioning = true, hive_types = {'${LOG_PARTITION_KEY}': 'VARCHAR'})`
      : `SELECT ${LOG_COLUMNS.map((c) => `CAST(NULL AS ${DUCKDB_TYPES[GLUE_COLUMN_TYPES[c]]}) AS "${c}"`).join(', ')}, CAST(NULL AS VARCHAR) AS ${LOG_PARTITION_KEY} WHERE false`;
    await connection.run(`CREATE VIEW ${table} AS ${source}`);
    return new DuckDbLog(instance, connection, table, cleanup);
  }

  /**
   * Fetches the log objects from the bucket into a temporary directory and opens them;
   * {@link close} removes the directory.
   */
  static async fromBucket(
    s3: S3Client,
    bucket: string,
    table: string,
    options: FetchOptions = {},
  ): Promise<DuckDbLog> {
    const dir = mkdtempSync(path.join(tmpdir(), 'privacy-ops-log-'));
    const cleanup = () => rmSync(dir, { recursive: true, force: true });
    try {
      await fetchLogObjects(s3, bucket, dir, options);
      return await DuckDbLog.open(dir, table, cleanup);
    } catch (error) {
      cleanup();
      throw error;
    }
  }

  /** Runs SQL (already rendered for DuckDB) and returns its rows as JSON values. */
  async query(sql: string): Promise<QueryResult> {
    const reader = await this.connection.runAndReadAll(sql);
    return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Row[] };
  }

  /** Renders a named query's SQL (or an auditor's) for DuckDB and runs it. */
  async run(sql: string, params: Readonly<Record<string, string>> = {}): Promise<QueryResult> {
    return this.query(renderSql(sql, { dialect: 'duckdb', table: this.table, params }));
  }

  /** Closes DuckDB and removes fetched files. */
  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    this.cleanup?.();
  }
}
