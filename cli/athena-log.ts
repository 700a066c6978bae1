import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { renderSql } from '../shared/processing-log/named-queries';
import type { QueryResult, Row } from './duckdb-log';

/** Where a query runs on Athena: the stack's workgroup, Glue database and table. */
export interface AthenaTarget {
  readonly workgroup: string;
  readonly database: string;
  readonly table: string;
}

/**
 * Runs the processing-log queries through Athena on a deployed stack (the workgroup holds the
 * result location and its encryption). Polls until the query ends; refuses a failed query with
 * Athena's reason.
 */
export class AthenaLog {
  constructor(
    private readonly athena: AthenaClient,
    private readonly target: AthenaTarget,
    private readonly progress: (message: string) => void = () => undefined,
    private readonly pollMs = 1000,
  ) {}

  /** Renders SQL for Athena and runs it. */
  async run(sql: string, params: Readonly<Record<string, string>> = {}): Promise<QueryResult> {
    const table = `"${this.target.database}"."${this.target.table}"`;
    const rendered = renderSql(sql, { dialect: 'athena', table, params });
    const started = await this.athena.send(
      new StartQueryExecutionCommand({
        QueryString: rendered,
        WorkGroup: this.target.workgroup,
        QueryExecutionContext: { Database: this.target.database },
      }),
    );
    const id = started.QueryExecutionId!;
    this.progress(`athena query ${id} started in workgroup ${this.target.workgroup}`);
    for (;;) {
      const state = await this.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const status = state.QueryExecution?.Status;
      if (status?.State === 'SUCCEEDED') break;
      if (status?.State === 'FAILED' || status?.State === 'CANCELLED')
        throw new Error(`athena query ${id} ${status.State}: ${status.StateChangeReason ?? ''}`);
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
    let columns: string[] = [];
    const rows: Row[] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = await this.athena.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token }),
      );
      columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name!);
      for (const [i, row] of (page.ResultSet?.Rows ?? []).entries()) {
        if (first && i === 0) continue; // header row
        rows.push(
          Object.fromEntries(columns.map((c, j) => [c, row.Data?.[j]?.VarCharValue ?? null])),
        );
      }
      first = false;
      token = page.NextToken;
    } while (token);
    return { columns, rows };
  }
}
