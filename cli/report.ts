import { namedQuery } from '../shared/processing-log/named-queries';
import type { VerifyReport } from '../shared/processing-log/verify';
import type { QueryResult } from './duckdb-log';
import { completionChart, escapeHtml, stackedChart, type ReportRequest } from './report-charts';

export type { ReportRequest } from './report-charts';

/** Anything that runs processing-log SQL with placeholders (DuckDB locally, Athena deployed). */
export interface LogQueryRunner {
  run(sql: string, params?: Readonly<Record<string, string>>): Promise<QueryResult>;
}

/** One bar group of the expiries chart. */
export interface ReportExpiry {
  readonly month: string;
  readonly category: string;
  readonly expired: number;
  readonly kept: number;
}

/** Rejected events of one reason in one month. */
export interface ReportRejection {
  readonly month: string;
  readonly reason: string;
  readonly count: number;
}

/** Everything the compliance report shows. */
export interface ReportData {
  readonly generatedAt: string;
  readonly source: string;
  /** The one tenant the report is restricted to, if any. */
  readonly tenant?: string;
  readonly requests: readonly ReportRequest[];
  readonly expiries: readonly ReportExpiry[];
  readonly operations: readonly { operation: string; outcome: string; count: number }[];
  readonly rejections: readonly ReportRejection[];
  readonly verify?: VerifyReport;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** Options of {@link collectReportData}. */
export interface ReportOptions {
  readonly verify?: VerifyReport;
  /** Only this tenant's records. */
  readonly tenant?: string;
  readonly now?: Date;
}

/** Runs the report's queries on the log (one tenant's records only, with `tenant`). */
export async function collectReportData(
  log: LogQueryRunner,
  source: string,
  options: ReportOptions = {},
): Promise<ReportData> {
  const { verify, tenant, now = new Date() } = options;
  const only = tenant ? 'tenant = {{tenant}}' : 'TRUE';
  const params = tenant ? { tenant } : undefined;
  const ofTenant = (row: Record<string, unknown>) => !tenant || row.tenant === tenant;
  const requests = await log.run(namedQuery('requests').sql);
  const expiries = await log.run(namedQuery('expiries-per-category-month').sql);
  const operations = await log.run(
    `SELECT operation, outcome, count(*) AS n FROM {{table}} WHERE ${only} GROUP BY operation, outcome ORDER BY operation, outcome`,
    params,
  );
  const rejections = await log.run(
    `SELECT substr("time", 1, 7) AS month, coalesce(reason, '(none)') AS reason, count(*) AS n FROM {{table}} WHERE operation = 'rejected' AND ${only} GROUP BY substr("time", 1, 7), coalesce(reason, '(none)') ORDER BY month, reason`,
    params,
  );
  return {
    generatedAt: now.toISOString(),
    source,
    ...(tenant ? { tenant } : {}),
    requests: requests.rows.filter(ofTenant).map((r) => ({
      tenant: String(r.tenant),
      requestId: String(r.requestId ?? r.requestid),
      kind: String(r.eventType ?? r.eventtype ?? '').replace(/^privacy\.|\.requested\.v1$/g, ''),
      receivedAt: String(r.receivedAt ?? r.receivedat),
      deadlineDays: num(r.deadlineDays ?? r.deadlinedays),
      completionDays:
        (r.completionDays ?? r.completiondays) === null ||
        (r.completionDays ?? r.completiondays) === undefined
          ? null
          : num(r.completionDays ?? r.completiondays),
      status: String(r.status),
    })),
    expiries: expiries.rows.filter(ofTenant).map((r) => ({
      month: String(r.month),
      category: String(r.category),
      expired: num(r.expired),
      kept: num(r.kept),
    })),
    operations: operations.rows.map((r) => ({
      operation: String(r.operation),
      outcome: String(r.outcome),
      count: num(r.n),
    })),
    rejections: rejections.rows.map((r) => ({
      month: String(r.month),
      reason: String(r.reason),
      count: num(r.n),
    })),
    ...(verify ? { verify } : {}),
  };
}

/** Stacked bars: expiries per month, one colour per data category. */
export function expiriesChart(expiries: readonly ReportExpiry[]): string {
  return stackedChart({
    id: 'expiries-chart',
    label: 'Retention expiries per category per month',
    barClass: 'expiry-bar',
    empty: 'No retention expiries in the log.',
    values: expiries.map((e) => ({ period: e.month, series: e.category, value: e.expired })),
  });
}

/** Stacked bars: rejected events per month, one colour per reason. */
export function rejectionsChart(rejections: readonly ReportRejection[]): string {
  return stackedChart({
    id: 'rejections-chart',
    label: 'Rejected events per reason per month',
    barClass: 'rejection-bar',
    empty: 'No rejected events in the log.',
    values: rejections.map((r) => ({ period: r.month, series: r.reason, value: r.count })),
  });
}

/** Rejected events per reason over the whole period, most frequent first. */
function rejectionTotals(rejections: readonly ReportRejection[]): ReportRejection[] {
  const totals = new Map<string, number>();
  for (const r of rejections) totals.set(r.reason, (totals.get(r.reason) ?? 0) + r.count);
  return [...totals]
    .map(([reason, count]) => ({ month: '', reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  if (rows.length === 0) return '<p class="empty">None.</p>';
  return `<table><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr>${r.map((v) => `<td>${escapeHtml(v === null || v === undefined ? '' : String(v))}</td>`).join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
}

/** The compliance report: one self-contained HTML page (inline CSS and SVG, no scripts). */
export function renderReport(data: ReportData): string {
  const late = data.requests.filter((r) => r.status === 'late' || r.status === 'overdue');
  const verify = data.verify
    ? `<p class="${data.verify.ok ? 'ok' : 'bad'}" id="verify-status">${data.verify.ok ? 'Log verified intact' : 'Log verification FAILED'}: ${data.verify.objects} objects, ${data.verify.records} records, ${data.verify.writers} writer chains, ${data.verify.problems.length} problem(s).</p>${table(
        ['problem', 'object', 'detail'],
        data.verify.problems.map((p) => [p.kind, p.key ?? '', p.detail]),
      )}<p class="note">${data.verify.notes.map(escapeHtml).join('<br>')}</p>`
    : '<p>Log not verified for this report (run <code>privacy-ops log verify</code>).</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>privacy-ops compliance report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:60em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}
.ok{color:#2e7d32;font-weight:bold}.bad{color:#c62828;font-weight:bold}.note{color:#666;font-size:12px}
svg.chart{border:1px solid #ddd;margin:.5em 0}
</style></head><body>
<h1>privacy-ops compliance report${data.tenant ? ` for tenant <span id="tenant">${escapeHtml(data.tenant)}</span>` : ''}</h1>
<p>Generated ${escapeHtml(data.generatedAt)} from the processing log of ${escapeHtml(data.source)}${data.tenant ? `, records of tenant ${escapeHtml(data.tenant)} only` : ''}.
Subjects appear only as keyed pseudonyms; this report names none.</p>
<h2>Requests and the one-month deadline (GDPR Art. 12(3))</h2>
<p>${data.requests.length} request(s): ${data.requests.filter((r) => r.status === 'on-time').length} on time, ${late.length} late or overdue, ${data.requests.filter((r) => r.status === 'open' || r.status === 'deferred').length} open.</p>
${completionChart(data.requests, new Date(data.generatedAt))}
<h3>Late or overdue</h3>
${table(
  ['tenant', 'request', 'kind', 'received', 'days to complete', 'status'],
  late.map((r) => [
    r.tenant,
    r.requestId,
    r.kind,
    r.receivedAt,
    r.completionDays?.toFixed(1) ?? 'open',
    r.status,
  ]),
)}
<h2>Retention expiries per category per month</h2>
${expiriesChart(data.expiries)}
<h2>Operations logged</h2>
${table(
  ['operation', 'outcome', 'records'],
  data.operations.map((o) => [o.operation, o.outcome, o.count]),
)}
<h2>Rejected events per month</h2>
${rejectionsChart(data.rejections)}
${table(
  ['reason', 'events'],
  rejectionTotals(data.rejections).map((r) => [r.reason, r.count]),
)}
<h2>Integrity of the log</h2>
${verify}
</body></html>
`;
}
