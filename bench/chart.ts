// The README's chart, drawn by the harness as plain SVG (no plotting dependency): per
// workload, one row per system, a throughput bar and a p99 latency bar, each scaled to the
// largest value in that workload so the POST workload is as readable as the small GET.
import type { Family } from './peers/types.ts';
import type { ThroughputRow } from './throughput.ts';
import { WORKLOADS } from './workloads.ts';

const COLORS: Record<Family, string> = { ours: '#e8590c', native: '#495057', node: '#1c7ed6', ceiling: '#adb5bd' };
const ROW = 18;
const LABEL_W = 230;
const BAR_W = 300;
const GAP = 110;
const WIDTH = LABEL_W + 2 * (BAR_W + GAP);

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function bar(x: number, y: number, fraction: number, color: string, text: string): string {
  const w = Math.max(1, Math.round(fraction * BAR_W));
  return `<rect x="${x}" y="${y + 3}" width="${w}" height="${ROW - 6}" fill="${color}"/><text x="${x + w + 4}" y="${y + ROW - 5}">${escape(text)}</text>`;
}

export function throughputChart(rows: readonly ThroughputRow[], title: string): string {
  const parts: string[] = [];
  let y = 30;
  parts.push(`<text x="0" y="18" font-weight="bold" font-size="14">${escape(title)}</text>`);
  for (const workload of WORKLOADS) {
    const group = rows.filter((r) => r.workload === workload.id);
    if (group.length === 0) continue;
    const maxRps = Math.max(...group.map((r) => r.rps), 1);
    const maxP99 = Math.max(...group.map((r) => r.latencyMs.p99), 0.001);
    y += 10;
    parts.push(`<text x="0" y="${y + 12}" font-weight="bold">${escape(workload.label)}</text>`);
    parts.push(`<text x="${LABEL_W}" y="${y + 12}" fill="#555">requests/s (more is better)</text>`);
    parts.push(`<text x="${LABEL_W + BAR_W + GAP}" y="${y + 12}" fill="#555">p99 latency, ms (less is better)</text>`);
    y += ROW;
    for (const r of group) {
      const color = COLORS[r.family];
      parts.push(`<text x="0" y="${y + ROW - 5}">${escape(`${r.label}, ${r.workers}w${r.accessLog ? ', access log' : ''}`)}</text>`);
      parts.push(bar(LABEL_W, y, r.rps / maxRps, color, r.rps.toLocaleString('en')));
      parts.push(bar(LABEL_W + BAR_W + GAP, y, r.latencyMs.p99 / maxP99, color, r.latencyMs.p99.toFixed(2)));
      y += ROW;
    }
  }
  const legend = (Object.entries(COLORS) as [Family, string][]).map(([family, color], i) => `<rect x="${i * 120}" y="${y + 12}" width="12" height="12" fill="${color}"/><text x="${i * 120 + 16}" y="${y + 23}">${family === 'ours' ? 'this project' : family === 'ceiling' ? 'no proxy' : family}</text>`);
  y += 34;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
${parts.join('\n')}
${legend.join('\n')}
</svg>
`;
}
