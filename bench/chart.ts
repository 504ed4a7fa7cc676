/** A small SVG chart of a benchmark run: throughput against threads, and forwardpool against its peers. */

interface EngineRow { model: string; threads: number; rowsPerSec: number; gflops: number }
interface PeerRow { model: string; engine: string; gflops: number; rowsPerSec: number }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\*/g, '');

/** Horizontal bars, one group per model, widths on a log scale of rows/s. */
export function chartSvg(title: string, engine: EngineRow[], peers: PeerRow[]): string {
  const W = 860, barH = 16, gap = 6, left = 330, right = 110;
  const rows: Array<{ group: string; label: string; value: number; ours: boolean }> = [];
  for (const r of engine) rows.push({ group: `forwardpool, threads — ${r.model}`, label: `${r.threads} thread${r.threads > 1 ? 's' : ''}`, value: r.rowsPerSec, ours: true });
  const short = (e: string) => e.includes('forwardpool') ? `forwardpool (${/\(([\w-]+) kernel/.exec(e)?.[1] ?? '?'})`
    : e.includes('tfjs') ? `tfjs ${e.includes('wasm backend') ? 'wasm' : 'cpu'}${/\(([\d,]+) rows\)/.test(e) ? ' (fewer rows)' : ''}`
    : e.replace(/ \d+\.\d+\.\d+.*$/, '');
  for (const p of peers) rows.push({ group: `vs peers — ${p.model}`, label: short(p.engine), value: p.rowsPerSec, ours: p.engine.includes('forwardpool') });
  const max = Math.max(...rows.map((r) => r.value));
  const min = Math.max(1, Math.min(...rows.map((r) => r.value)) / 2);
  const scale = (v: number) => ((Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))) * (W - left - right);
  const parts: string[] = [];
  let y = 40;
  let group = '';
  for (const r of rows) {
    if (r.group !== group) {
      group = r.group;
      y += 10;
      parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(group)}</text>`);
      y += barH + gap;
    }
    const w = Math.max(2, scale(r.value));
    parts.push(`<text x="${left - 8}" y="${y + 12}" text-anchor="end">${esc(r.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${r.ours ? '#2b7bb9' : '#a0a0a0'}"/>`);
    parts.push(`<text x="${left + w + 6}" y="${y + 12}">${Math.round(r.value).toLocaleString('en-US')} rows/s</text>`);
    y += barH + gap;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 30}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>
${parts.join('\n')}
<text x="10" y="${y + 18}" fill="#666">rows/s on a log scale; blue: forwardpool, grey: other engines (same model, same data, same run)</text>
</svg>
`;
}
