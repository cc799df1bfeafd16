import { writeFileSync } from 'node:fs';

export interface Bar {
  label: string;
  value: number;
  /** Spread whisker (e.g. min and max of the runs). */
  lo?: number;
  hi?: number;
  /** Our pipeline, drawn in the accent colour. */
  ours?: boolean;
}

export interface BarGroup {
  title: string;
  bars: Bar[];
}

export interface ChartSpec {
  title: string;
  subtitle: string;
  unit: string;
  groups: BarGroup[];
  /** Log scale for values spanning orders of magnitude (e.g. a quadratic splitter). */
  log?: boolean;
  /** Each group scaled to its own largest bar (groups in different units). */
  perGroupScale?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function num(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  if (n >= 10) return n.toFixed(1);
  if (n >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

/** A horizontal grouped bar chart as a standalone SVG (no dependency, no script, no external font). */
export function barChart(spec: ChartSpec): string {
  const width = 860;
  const labelW = 300;
  const valueW = 90;
  const plotW = width - labelW - valueW - 20;
  const barH = 16;
  const gap = 5;
  const groupGap = 14;
  const top = 58;
  let y = top;
  const groupMax = (g: BarGroup) => Math.max(...g.bars.map((b) => Math.max(b.value, b.hi ?? 0)), 1e-9);
  let max = Math.max(...spec.groups.map(groupMax), 1e-9);
  const positives = spec.groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0);
  const min = spec.log ? Math.min(...positives) / 2 : 0;
  const scale = (v: number): number => {
    if (v <= 0) return 0;
    if (!spec.log) return (v / max) * plotW;
    return (Math.log10(Math.max(v, min) / min) / Math.log10(max / min)) * plotW;
  };
  const parts: string[] = [];
  for (const g of spec.groups) {
    if (spec.perGroupScale) max = groupMax(g);
    parts.push(`<text x="10" y="${y + 12}" class="g">${esc(g.title)}</text>`);
    y += 18;
    for (const b of g.bars) {
      const w = Math.max(1, scale(b.value));
      parts.push(`<text x="${labelW - 8}" y="${y + barH - 4}" class="l" text-anchor="end">${esc(b.label)}</text>`);
      parts.push(
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" rx="2" class="${b.ours ? 'ours' : 'other'}"/>`,
      );
      if (b.lo !== undefined && b.hi !== undefined && b.hi > b.lo) {
        const x1 = labelW + scale(b.lo);
        const x2 = labelW + scale(b.hi);
        const cy = y + barH / 2;
        parts.push(
          `<path d="M${x1.toFixed(1)} ${cy}H${x2.toFixed(1)}M${x1.toFixed(1)} ${cy - 4}V${cy + 4}M${x2.toFixed(1)} ${cy - 4}V${cy + 4}" class="w"/>`,
        );
      }
      parts.push(
        `<text x="${labelW + Math.max(w, b.hi !== undefined ? scale(b.hi) : 0) + 6}" y="${y + barH - 4}" class="v">${num(b.value)}</text>`,
      );
      y += barH + gap;
    }
    y += groupGap;
  }
  const height = y + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif">
<style>.t{font-size:16px;font-weight:600;fill:#111}.s{font-size:11px;fill:#555}.g{font-size:13px;font-weight:600;fill:#222}.l{font-size:12px;fill:#333}.v{font-size:11px;fill:#333}.ours{fill:#1f77b4}.other{fill:#b0b7bf}.w{stroke:#222;stroke-width:1;fill:none}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" class="t">${esc(spec.title)} (${esc(spec.unit)}${spec.log ? ', log scale' : ''})</text>
<text x="10" y="40" class="s">${esc(spec.subtitle)}</text>
${parts.join('\n')}
</svg>
`;
}

export function writeChart(path: string, spec: ChartSpec): void {
  writeFileSync(path, barChart(spec));
}
