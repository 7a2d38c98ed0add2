// The forward-residual chart of the Solve page: one point per L or H update in execution order,
// log scale, segments separated by dashed lines and the segment where ACT halts shaded.

import type { ResidualView } from './protocol.ts';

const NS = 'http://www.w3.org/2000/svg';
const svgEl = (tag: string, attrs: Record<string, string | number>, text?: string): SVGElement => {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
};

/** An SVG of log10 residuals (`data-residuals` carries the values for tests). */
export const residualChart = (rs: readonly ResidualView[], haltSegment: number): SVGElement => {
  const W = 640;
  const H = 200;
  const left = 44;
  const bottom = 24;
  const finite = rs.map((r) => r.residual).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.floor(Math.log10(Math.min(...finite, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...finite, 1e-3)));
  const x = (i: number): number => left + ((i + 0.5) * (W - left - 8)) / Math.max(1, rs.length);
  const y = (v: number): number => 8 + ((hi - Math.log10(v)) * (H - bottom - 8)) / Math.max(1, hi - lo);
  const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'residual-chart' });
  svg.dataset.residuals = rs.map((r) => r.residual).join(',');
  for (let e = lo; e <= hi; e++) {
    svg.append(svgEl('line', { x1: left, x2: W - 8, y1: y(10 ** e), y2: y(10 ** e), stroke: '#eee' }));
    svg.append(svgEl('text', { x: left - 4, y: y(10 ** e) + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#666' }, `1e${e}`));
  }
  // segment spans: shading first, then boundaries and labels on top
  const spans: { seg: number; x0: number; x1: number }[] = [];
  const step = x(1) - x(0);
  for (let i = 0, start = 0; i <= rs.length; i++) {
    if (i < rs.length && rs[i].segment === rs[start].segment) continue;
    spans.push({ seg: rs[start].segment, x0: x(start) - step / 2, x1: x(i - 1) + step / 2 });
    start = i;
  }
  for (const s of spans) if (s.seg === haltSegment) svg.append(svgEl('rect', { x: s.x0, y: 8, width: s.x1 - s.x0, height: H - bottom - 8, fill: '#e8f5e9' }));
  for (const s of spans) {
    svg.append(svgEl('line', { x1: s.x1, x2: s.x1, y1: 8, y2: H - bottom, stroke: '#bbb', 'stroke-dasharray': '3 3' }));
    svg.append(svgEl('text', { x: (s.x0 + s.x1) / 2, y: H - 8, 'text-anchor': 'middle', 'font-size': 10, fill: '#444' }, `segment ${s.seg}`));
  }
  for (const m of ['L', 'H'] as const) {
    const pts = rs.map((r, i) => [i, r] as const).filter(([, r]) => r.module === m && Number.isFinite(r.residual) && r.residual > 0);
    const colour = m === 'L' ? '#1565c0' : '#ef6c00';
    if (pts.length > 1) svg.append(svgEl('polyline', { points: pts.map(([i, r]) => `${x(i)},${y(r.residual)}`).join(' '), fill: 'none', stroke: colour, 'stroke-width': 1, opacity: 0.5 }));
    for (const [i, r] of pts) svg.append(svgEl('circle', { cx: x(i), cy: y(r.residual), r: 3, fill: colour }));
  }
  svg.append(svgEl('text', { x: W - 120, y: 18, 'font-size': 11, fill: '#1565c0' }, '● z_L updates'));
  svg.append(svgEl('text', { x: W - 120, y: 32, 'font-size': 11, fill: '#ef6c00' }, '● z_H updates'));
  return svg;
};
