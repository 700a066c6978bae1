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
const DAY_MS = 86_400_000;

/**
 * The days the request chart's axis spans: one and a half times the usual deadline (the median,
 * one month in practice), in whole weeks, at least five weeks. A request that took longer, or
 * whose deadline lies further, is clipped at the edge and labelled with its value, so one outlier
 * cannot squeeze every other bar to nothing.
 */
export function deadlineWindow(requests: readonly ReportRequest[]): number {
  const deadlines = requests.map((r) => r.deadlineDays).sort((a, b) => a - b);
  const median = deadlines.length === 0 ? 31 : deadlines[Math.floor((deadlines.length - 1) / 2)]!;
  return Math.max(35, Math.ceil((median * 1.5) / 7) * 7);
}

/** Days a request took, or has been open for at `now`. */
function daysOf(r: ReportRequest, now: Date): number {
  return r.completionDays ?? Math.max(0, (now.getTime() - Date.parse(r.receivedAt)) / DAY_MS);
}

/**
 * Horizontal bars: days each request took (or has been open), against its deadline (a vertical
 * mark per request), on the axis of {@link deadlineWindow}; what lies beyond it is clipped and
 * labelled (`outlier-label`). Newest requests last; at most `limit` shown.
 */
export function completionChart(
  requests: readonly ReportRequest[],
  now: Date = new Date(),
  limit = 60,
): string {
  const shown = requests.slice(-limit);
  if (shown.length === 0)
    return '<p class="empty" id="completion-chart-empty">No requests in the log.</p>';
  const [rowH, left, width, top, right] = [18, 220, 760, 40, 130];
  const window = deadlineWindow(shown);
  const scale = (width - left - right) / window;
  const edge = left + window * scale;
  const height = top + shown.length * rowH + 30;
  const parts: string[] = [
    `<svg id="completion-chart" class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Request completion time against the one-month deadline">`,
  ];
  for (let d = 0; d <= window; d += 7) {
    const x = (left + d * scale).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${height - 26}" stroke="#eee"/>`,
      `<text class="tick" x="${x}" y="${height - 12}" font-size="10" text-anchor="middle">${d}d</text>`,
    );
  }
  shown.forEach((r, i) => {
    const y = top + i * rowH;
    const days = daysOf(r, now);
    const w = Math.max(2, Math.min(days, window) * scale);
    const colour = STATUS_COLOURS[r.status] ?? '#9e9e9e';
    const outliers: string[] = [];
    if (days > window) outliers.push(`${Math.round(days)} d`);
    if (r.deadlineDays > window) outliers.push(`deadline ${Math.round(r.deadlineDays)} d`);
    parts.push(
      `<text x="${left - 6}" y="${y + 12}" font-size="10" text-anchor="end">${escapeHtml(`${r.tenant} ${r.requestId}`.slice(0, 36))}</text>`,
      `<rect class="bar request-bar status-${escapeHtml(r.status)}" x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colour}"${r.completionDays === null ? ' fill-opacity="0.5"' : ''}><title>${escapeHtml(`${r.kind} ${r.requestId}: ${r.completionDays === null ? `open ${days.toFixed(1)} days` : `${r.completionDays.toFixed(1)} days`}, deadline ${r.deadlineDays.toFixed(0)} days (${r.status})`)}</title></rect>`,
    );
    if (r.deadlineDays <= window) {
      const dx = (left + r.deadlineDays * scale).toFixed(1);
      parts.push(
        `<line class="deadline" x1="${dx}" y1="${y + 1}" x2="${dx}" y2="${y + rowH - 1}" stroke="#000" stroke-width="2"/>`,
      );
    }
    if (days > window)
      parts.push(
        `<path class="clip-mark" d="M${(edge - 6).toFixed(1)} ${y + 3} l4 ${rowH - 6} M${(edge - 2).toFixed(1)} ${y + 3} l4 ${rowH - 6}" stroke="#fff" stroke-width="2"/>`,
      );
    if (outliers.length > 0)
      parts.push(
        `<text class="outlier-label" x="${(edge + 6).toFixed(1)}" y="${y + 12}" font-size="10">${escapeHtml(outliers.join(', '))} &#9656;</text>`,
      );
  });
  parts.push(
    `<text class="caption" x="10" y="14" font-size="11">days from receipt to completion, axis to ${window} days: longer bars and later deadlines are clipped, their value at the right</text>`,
    `<text class="caption" x="10" y="28" font-size="11">black mark = deadline; green on time, red late or overdue, grey open</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** One stacked bar chart: a bar per period, a colour per series. */
export interface StackedChart {
  readonly id: string;
  readonly label: string;
  /** Class of every bar segment (after `bar`). */
  readonly barClass: string;
  readonly empty: string;
  readonly values: ReadonlyArray<{ period: string; series: string; value: number }>;
}

/** Stacked vertical bars, one per period, one colour per series, with a legend. */
export function stackedChart(chart: StackedChart): string {
  const values = chart.values.filter((v) => v.value > 0);
  if (values.length === 0) return `<p class="empty" id="${chart.id}-empty">${chart.empty}</p>`;
  const periods = [...new Set(values.map((v) => v.period))].sort();
  const series = [...new Set(values.map((v) => v.series))].sort();
  const total = (p: string, s?: string) =>
    values
      .filter((v) => v.period === p && (s === undefined || v.series === s))
      .reduce((sum, v) => sum + v.value, 0);
  const max = Math.max(1, ...periods.map((p) => total(p)));
  const [width, left, bottom, top, legendW] = [760, 50, 40, 20, 200];
  const height = Math.max(300, top + series.length * 16 + 20);
  const slot = (width - left - legendW) / periods.length;
  const barW = Math.min(48, slot * 0.7);
  const scale = (height - top - bottom) / max;
  const parts: string[] = [
    `<svg id="${chart.id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(chart.label)}">`,
    `<line x1="${left}" y1="${height - bottom}" x2="${width - legendW}" y2="${height - bottom}" stroke="#333"/>`,
    `<text x="${left - 6}" y="${top + 4}" font-size="10" text-anchor="end">${max}</text>`,
    `<text x="${left - 6}" y="${height - bottom}" font-size="10" text-anchor="end">0</text>`,
  ];
  periods.forEach((p, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let y = height - bottom;
    for (const [si, s] of series.entries()) {
      const value = total(p, s);
      if (value === 0) continue;
      const h = value * scale;
      y -= h;
      parts.push(
        `<rect class="bar ${chart.barClass}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${escapeHtml(`${p} ${s}: ${value}`)}</title></rect>`,
      );
    }
    parts.push(
      `<text class="period" x="${(x + barW / 2).toFixed(1)}" y="${height - bottom + 14}" font-size="10" text-anchor="middle">${escapeHtml(p)}</text>`,
    );
  });
  series.forEach((s, si) => {
    const y = top + si * 16;
    parts.push(
      `<rect class="legend" x="${width - legendW + 10}" y="${y}" width="10" height="10" fill="${PALETTE[si % PALETTE.length]}"/>`,
      `<text class="legend-label" x="${width - legendW + 26}" y="${y + 9}" font-size="11">${escapeHtml(s.slice(0, 30))}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
