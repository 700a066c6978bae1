import { renderReport, type ReportData } from '../../cli/report';
import { completionChart, deadlineWindow, type ReportRequest } from '../../cli/report-charts';

const request = (
  id: string,
  deadlineDays: number,
  completionDays: number | null,
  status = 'on-time',
): ReportRequest => ({
  tenant: 'acme-sas',
  requestId: id,
  kind: 'erasure',
  receivedAt: '2026-11-01T00:00:00.000Z',
  deadlineDays,
  completionDays,
  status,
});
const widths = (svg: string) =>
  [...svg.matchAll(/<rect class="bar request-bar[^"]*"[^>]* width="([\d.]+)"/g)].map((m) =>
    Number(m[1]),
  );

describe('compliance report: the request chart reads at a glance', () => {
  it('spans one and a half times the usual deadline, in weeks', () => {
    // Act / Assess
    expect(deadlineWindow([request('a', 31, 2), request('b', 30, 5), request('c', 400, 1)])).toBe(
      49,
    );
    expect(deadlineWindow([])).toBe(49);
    expect(deadlineWindow([request('a', 10, 2)])).toBe(35);
  });

  it('keeps ordinary bars readable beside an outlying deadline, which is clipped and labelled', () => {
    // Prepare
    const requests = [
      request('a', 31, 15),
      request('b', 30, 2),
      request('far', 400, 20),
      request('slow', 31, 90, 'late'),
    ];
    // Act
    const svg = completionChart(requests, new Date('2026-12-02T00:00:00Z'));
    // Assess: 15 days on a 49-day axis of 410 px
    const [a, b, far, slow] = widths(svg);
    expect(a).toBeCloseTo((15 * 410) / 49, 0);
    expect(b).toBeGreaterThan(10);
    expect(far).toBeCloseTo((20 * 410) / 49, 0);
    expect(slow).toBeCloseTo(410, 0);
    expect(svg).toContain('<text class="outlier-label"');
    expect(svg).toContain('deadline 400 d &#9656;');
    expect(svg).toContain('90 d &#9656;');
    expect(svg.match(/<line class="deadline"/g)).toHaveLength(3);
  });

  it('says which tenant a filtered report covers, and charts rejections per month', () => {
    // Prepare
    const data: ReportData = {
      generatedAt: '2026-12-02T00:00:00.000Z',
      source: 'test',
      tenant: 'beta-gmbh',
      requests: [],
      expiries: [],
      operations: [],
      rejections: [
        { month: '2026-10', reason: 'invalid-json', count: 2 },
        { month: '2026-11', reason: 'invalid-json', count: 1 },
        { month: '2026-11', reason: 'unknown-category', count: 4 },
      ],
    };
    // Act
    const html = renderReport(data);
    // Assess
    expect(html).toContain('compliance report for tenant <span id="tenant">beta-gmbh</span>');
    expect(html.match(/<rect class="bar rejection-bar"/g)).toHaveLength(3);
    expect(html).toContain('<td>unknown-category</td><td>4</td>');
    expect(html).toContain('<td>invalid-json</td><td>3</td>');
  });
});
