import { namedQuery } from '../shared/processing-log/named-queries';
import type { VerifyReport } from '../shared/processing-log/verify';
import type { QueryResult } from './duckdb-log';

/** Anything that runs processing-log SQL with placeholders (DuckDB locally, Athena deployed). */
export interface LogQueryRunner {
  run(sql: string, params?: Readonly<Record<string, string>>): Promise<QueryResult>;
}

/** One request as the report shows it. */
export interface ReportRequest {
  readonly tenant: string;
  readonly requestId: string;
  readonly kind: string;
  readonly receivedAt: string;
  readonly deadlineDays: number;
  readonly completionDays: number | null;
  readonly status: string;
}

/** One bar group of the expiries chart. */
export interface ReportExpiry {
  readonly month: string;
  readonly category: string;
  readonly expired: number;
  readonly kept: number;
}

/** Everything the compliance report shows. */
export interface ReportData {
  readonly generatedAt: string;
  readonly source: string;
  readonly requests: readonly ReportRequest[];
  readonly expiries: readonly ReportExpiry[];
  readonly operations: readonly { operation: string; outcome: string; count: number }[];
  readonly rejections: readonly { reason: string; count: number }[];
  readonly verify?: VerifyReport;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** Runs the report's queries on the log. */
export async function collectReportData(
  log: LogQueryRunner,
  source: string,
  verify?: VerifyReport,
  now: Date = new Date(),
): Promise<ReportData> {
  const requests = await log.run(namedQuery('requests').sql);
  const expiries = await log.run(namedQuery('expiries-per-category-month').sql);
  const operations = await log.run(
    `SELECT operation, outcome, count(*) AS n FROM {{table}} GROUP BY operation, outcome ORDER BY operation, outcome`,
  );
  const rejections = await log.run(
    `SELECT coalesce(reason, '(none)') AS reason, count(*) AS n FROM {{table}} WHERE operation = 'rejected' GROUP BY coalesce(reason, '(none)') ORDER BY n DESC, reason`,
  );
  return {
    generatedAt: now.toISOString(),
    source,
    requests: requests.rows.map((r) => ({
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
    expiries: expiries.rows.map((r) => ({
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
    rejections: rejections.rows.map((r) => ({ reason: String(r.reason), count: num(r.n) })),
    ...(verify ? { verify } : {}),
  };
}

/** Escapes text for HTML and SVG. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const STATUS_COLOURS: Record<string, string> = {
  'on-time': '#2e7d32',
  late: '#c62828',
  overdue: '#c62828',
  open: '#9e9e9e',
};
const PALETTE = [
  '#1565c0',
  '#ef6c00',
  '#6a1b9a',
  '#00838f',
  '#ad1457',
  '#558b2f',
  '#4e342e',
  '#37474f',
];

/**
 * Horizontal bars: days each request took (or has been open), against its deadline (a vertical
 * mark per request). Newest requests last; at most `limit` shown.
 */
export function completionChart(requests: readonly ReportRequest[], limit = 60): string {
  const shown = requests.slice(-limit);
  if (shown.length === 0)
    return '<p class="empty" id="completion-chart-empty">No requests in the log.</p>';
  const rowH = 18;
  const left = 220;
  const width = 760;
  const top = 24;
  const maxDays = Math.max(
    35,
    ...shown.map((r) => Math.max(r.deadlineDays, r.completionDays ?? 0)),
  );
  const scale = (width - left - 20) / maxDays;
  const height = top + shown.length * rowH + 30;
  const parts: string[] = [
    `<svg id="completion-chart" class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Request completion time against the one-month deadline">`,
  ];
  for (let d = 0; d <= maxDays; d += 7) {
    const x = left + d * scale;
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${height - 26}" stroke="#eee"/>`,
      `<text x="${x.toFixed(1)}" y="${height - 12}" font-size="10" text-anchor="middle">${d}d</text>`,
    );
  }
  shown.forEach((r, i) => {
    const y = top + i * rowH;
    const days = r.completionDays ?? (Date.now() - Date.parse(r.receivedAt)) / 86_400_000;
    const w = Math.max(2, Math.min(days, maxDays) * scale);
    const colour = STATUS_COLOURS[r.status] ?? '#9e9e9e';
    const dx = left + r.deadlineDays * scale;
    parts.push(
      `<text x="${left - 6}" y="${y + 12}" font-size="10" text-anchor="end">${escapeHtml(`${r.tenant} ${r.requestId}`.slice(0, 36))}</text>`,
      `<rect class="bar request-bar status-${escapeHtml(r.status)}" x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colour}"${r.completionDays === null ? ' fill-opacity="0.5"' : ''}><title>${escapeHtml(`${r.kind} ${r.requestId}: ${r.completionDays === null ? 'open' : `${r.completionDays.toFixed(1)} days`}, deadline ${r.deadlineDays.toFixed(0)} days (${r.status})`)}</title></rect>`,
      `<line class="deadline" x1="${dx.toFixed(1)}" y1="${y + 1}" x2="${dx.toFixed(1)}" y2="${y + rowH - 1}" stroke="#000" stroke-width="2"/>`,
    );
  });
  parts.push(
    `<text x="10" y="12" font-size="11">days from receipt to completion; black mark = one-month deadline; green on time, red late or overdue, grey open</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** Stacked vertical bars: expiries per month, one colour per data category. */
export function expiriesChart(expiries: readonly ReportExpiry[]): string {
  if (expiries.length === 0)
    return '<p class="empty" id="expiries-chart-empty">No retention expiries in the log.</p>';
  const months = [...new Set(expiries.map((e) => e.month))].sort();
  const categories = [...new Set(expiries.map((e) => e.category))].sort();
  const totals = months.map((m) =>
    expiries.filter((e) => e.month === m).reduce((s, e) => s + e.expired, 0),
  );
  const max = Math.max(1, ...totals);
  const width = 760;
  const height = 300;
  const left = 50;
  const bottom = 40;
  const top = 20;
  const legendW = 180;
  const slot = (width - left - legendW) / months.length;
  const barW = Math.min(48, slot * 0.7);
  const scale = (height - top - bottom) / max;
  const parts: string[] = [
    `<svg id="expiries-chart" class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Retention expiries per category per month">`,
    `<line x1="${left}" y1="${height - bottom}" x2="${width - legendW}" y2="${height - bottom}" stroke="#333"/>`,
    `<text x="${left - 6}" y="${top + 4}" font-size="10" text-anchor="end">${max}</text>`,
    `<text x="${left - 6}" y="${height - bottom}" font-size="10" text-anchor="end">0</text>`,
  ];
  months.forEach((m, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let y = height - bottom;
    for (const [ci, c] of categories.entries()) {
      const value = expiries
        .filter((e) => e.month === m && e.category === c)
        .reduce((s, e) => s + e.expired, 0);
      if (value === 0) continue;
      const h = value * scale;
      y -= h;
      parts.push(
        `<rect class="bar expiry-bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[ci % PALETTE.length]}"><title>${escapeHtml(`${m} ${c}: ${value}`)}</title></rect>`,
      );
    }
    parts.push(
      `<text x="${(x + barW / 2).toFixed(1)}" y="${height - bottom + 14}" font-size="10" text-anchor="middle">${escapeHtml(m)}</text>`,
    );
  });
  categories.forEach((c, ci) => {
    const y = top + ci * 16;
    parts.push(
      `<rect class="legend" x="${width - legendW + 10}" y="${y}" width="10" height="10" fill="${PALETTE[ci % PALETTE.length]}"/>`,
      `<text x="${width - legendW + 26}" y="${y + 9}" font-size="11">${escapeHtml(c)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
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
<h1>privacy-ops compliance report</h1>
<p>Generated ${escapeHtml(data.generatedAt)} from the processing log of ${escapeHtml(data.source)}.
Subjects appear only as keyed pseudonyms; this report names none.</p>
<h2>Requests and the one-month deadline (GDPR Art. 12(3))</h2>
<p>${data.requests.length} request(s): ${data.requests.filter((r) => r.status === 'on-time').length} on time, ${late.length} late or overdue, ${data.requests.filter((r) => r.status === 'open').length} open.</p>
${completionChart(data.requests)}
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
<h2>Rejected events</h2>
${table(
  ['reason', 'events'],
  data.rejections.map((r) => [r.reason, r.count]),
)}
<h2>Integrity of the log</h2>
${verify}
</body></html>
`;
}
