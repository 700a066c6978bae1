import { Duration, Size, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { NAMED_QUERIES, NamedQuery, renderSql } from '../../shared/processing-log/named-queries';
import { GLUE_COLUMN_TYPES, LOG_COLUMNS } from '../../shared/processing-log/record';
import { SecureBucket } from './secure-bucket';

/** Properties of a {@link ProcessingLogCatalog}. */
export interface ProcessingLogCatalogProps {
  /** The processing log bucket (objects under `dt=YYYY-MM-DD/<actor>/<file>.jsonl.gz`). */
  readonly logBucket: s3.IBucket;
  /** Key encrypting query results (the results are log data). */
  readonly resultsKey: kms.IKey;
  /** Bucket receiving the results bucket's server access logs. */
  readonly serverAccessLogsBucket: s3.IBucket;
  /** Glue database name (lowercase, digits, underscores). @default privacy_ops */
  readonly databaseName?: string;
  /** Glue table name (lowercase, digits, underscores). @default processing_log */
  readonly tableName?: string;
  /** Athena workgroup name. @default privacy-ops-audit */
  readonly workGroupName?: string;
  /** Most a single query may scan before Athena cancels it (≥ 10 MB). @default 10 GiB */
  readonly bytesScannedCutoffPerQuery?: Size;
  /** First day of the `dt` partition projection (YYYY-MM-DD). @default 2024-01-01 */
  readonly projectionStartDate?: string;
  /** How long query results are kept. @default 30 days */
  readonly resultsExpiration?: Duration;
  /** The auditors' named queries (SQL with `{{table}}`). @default NAMED_QUERIES of the processing log */
  readonly namedQueries?: ReadonlyArray<NamedQuery>;
}

const GLUE_NAME = /^[a-z][a-z0-9_]{0,254}$/;

/**
 * The auditors' view of the processing log: a Glue database and table over the log bucket with
 * partition projection on `dt` (no crawler, no `MSCK REPAIR`), the columns of `LOG_COLUMNS` in order with types derived from the record schema, an Athena workgroup that
 * enforces its configuration (KMS-encrypted results in an EU bucket of this stack, a
 * bytes-scanned cutoff per query), and the named queries. Refuses invalid names, a cutoff
 * below Athena's 10 MB minimum and a malformed projection start.
 */
export class ProcessingLogCatalog extends Construct {
  /** Glue database name. */
  readonly databaseName: string;
  /** Glue table name. */
  readonly tableName: string;
  /** Athena workgroup name. */
  readonly workGroupName: string;
  /** Bucket of query results. */
  readonly resultsBucket: s3.Bucket;
  /** The workgroup. */
  readonly workGroup: athena.CfnWorkGroup;

  constructor(scope: Construct, id: string, props: ProcessingLogCatalogProps) {
    super(scope, id);
    this.databaseName = props.databaseName ?? 'privacy_ops';
    this.tableName = props.tableName ?? 'processing_log';
    this.workGroupName = props.workGroupName ?? 'privacy-ops-audit';
    const { cutoff, start } = this.validate(id, props);
    const table = this.logTable(props.logBucket, start);
    this.resultsBucket = new SecureBucket(this, 'ResultsBucket', {
      encryptionKey: props.resultsKey,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      lifecycleRules: [
        {
          id: 'expire-query-results',
          expiration: props.resultsExpiration ?? Duration.days(30),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    }).bucket;
    this.workGroup = this.auditWorkGroup(cutoff, props.resultsKey);
    for (const query of props.namedQueries ?? NAMED_QUERIES) {
      this.namedQuery(query).node.addDependency(this.workGroup, table);
    }
  }

  /** The names, the scan cutoff and the projection start, or an error naming the bad prop. */
  private validate(id: string, props: ProcessingLogCatalogProps) {
    for (const [what, name] of [
      ['databaseName', this.databaseName],
      ['tableName', this.tableName],
    ]) {
      if (!GLUE_NAME.test(name)) {
        throw new Error(`${id}: ${what} must be lowercase letters, digits and _ (got ${name})`);
      }
    }
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(this.workGroupName)) {
      throw new Error(
        `${id}: workGroupName must be 1-128 of A-Z a-z 0-9 . _ - (got ${this.workGroupName})`,
      );
    }
    const cutoff = (props.bytesScannedCutoffPerQuery ?? Size.gibibytes(10)).toBytes();
    if (cutoff < 10_000_000) {
      throw new Error(`${id}: bytesScannedCutoffPerQuery must be at least 10 MB (Athena minimum)`);
    }
    const start = props.projectionStartDate ?? '2024-01-01';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(start) || Number.isNaN(Date.parse(start))) {
      throw new Error(`${id}: projectionStartDate must be YYYY-MM-DD (got ${start})`);
    }
    return { cutoff, start };
  }

  /** The Glue database and the table over the log objects, partitions projected by day. */
  private logTable(logBucket: s3.IBucket, start: string): glue.CfnTable {
    const stack = Stack.of(this);
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: this.databaseName,
        description: 'privacy-ops: processing log for auditors',
      },
    });
    const location = `s3://${logBucket.bucketName}/`;
    const table = new glue.CfnTable(this, 'Table', {
      catalogId: stack.account,
      databaseName: this.databaseName,
      tableInput: {
        name: this.tableName,
        description: 'privacy-ops processing log, one JSON record per line, gzip, by day (dt)',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: 'dt', type: 'string' }],
        parameters: {
          classification: 'json',
          compressionType: 'gzip',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${start},NOW`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'storage.location.template': `${location}dt=\${dt}/`,
        },
        storageDescriptor: {
          location,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            parameters: { 'case.insensitive': 'true', 'ignore.malformed.json': 'false' },
          },
          columns: LOG_COLUMNS.map((name) => ({ name, type: GLUE_COLUMN_TYPES[name] })),
        },
      },
    });
    table.node.addDependency(database);
    return table;
  }

  /** The auditors' workgroup: its configuration enforced, results encrypted, scans bounded. */
  private auditWorkGroup(cutoff: number, resultsKey: kms.IKey): athena.CfnWorkGroup {
    return new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'privacy-ops auditors: encrypted results in the stack region, bounded scans',
      state: 'ENABLED',
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: cutoff,
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/results/`,
          expectedBucketOwner: Stack.of(this).account,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: resultsKey.keyArn },
        },
      },
    });
  }

  /** A named query; its `{{parameters}}` become Athena execution parameters (`?`, in order). */
  private namedQuery(query: NamedQuery): athena.CfnNamedQuery {
    const parameters: string[] = [];
    const withPlaceholders = query.sql.replace(
      /\{\{([A-Za-z][A-Za-z0-9_-]*)\}\}/g,
      (whole, name: string) => {
        if (name === 'table') return whole;
        parameters.push(name);
        return '?';
      },
    );
    const tableRef = `"${this.databaseName}"."${this.tableName}"`;
    return new athena.CfnNamedQuery(this, `Query-${query.name}`, {
      name: query.name,
      description: (
        query.description +
        (parameters.length ? ` Execution parameters, in order: ${parameters.join(', ')}.` : '')
      ).slice(0, 1024),
      database: this.databaseName,
      workGroup: this.workGroupName,
      queryString: renderSql(withPlaceholders, { dialect: 'athena', table: tableRef }),
    });
  }
}
