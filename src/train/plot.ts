// Self-contained SVG charts for a training run: loss and accuracy curves from metrics.jsonl, and
// accuracy against halt_max_steps for inference-time scaling. Plain string building, no
// dependencies; the output opens in any browser. This module draws; it does not read files.

import type { MetricRecord, TrainRecord } from './metrics-log.ts';

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** draw a dot on every point (for sparse series such as evaluations) */
  readonly markers?: boolean;
}

export interface Chart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** fixed y range (e.g. [0, 1] for accuracies); otherwise from the data */
  readonly yRange?: readonly [number, number];
  /** logarithmic y axis (losses) */
  readonly logY?: boolean;
  /** logarithmic x axis (halt_max_steps 1, 2, 4, 8, 16) */
  readonly logX?: boolean;
}

const W = 520;
const H = 340;
const M = { left: 64, right: 16, top: 34, bottom: 74 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const fmt = (v: number): string => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return Number(v.toPrecision(3)).toString();
  return Number(v.toPrecision(2)).toString();
};

/** About `n` round tick values covering [lo, hi]. */
export const niceTicks = (lo: number, hi: number, n = 5): number[] => {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
};

/** Ticks for a log axis spanning 10^lo … 10^hi: powers of ten, with 2× and 5× when under two decades (round linear values when even those are too sparse). */
export const logTicks = (lo: number, hi: number): number[] => {
  const inRange = (t: number) => Math.log10(t) >= lo - 1e-9 && Math.log10(t) <= hi + 1e-9;
  const decades = niceTicks(Math.floor(lo), Math.ceil(hi), Math.min(6, Math.ceil(hi) - Math.floor(lo) || 1));
  const steps = hi - lo < 2 ? [1, 2, 5] : [1];
  const ticks = decades.flatMap((e) => steps.map((m) => Number((m * 10 ** e).toPrecision(12)))).filter(inRange);
  // a narrow range may hold fewer than two of those: round linear values instead
  return ticks.length >= 2 ? ticks : niceTicks(10 ** lo, 10 ** hi, 4).filter((t) => t > 0 && inRange(t));
};

/** One chart as an SVG <g> of size W×H, translated by (dx, dy). */
const chartGroup = (c: Chart, dx: number, dy: number): string => {
  const pts = c.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!c.logY || y > 0));
  const tx = (x: number): number => (c.logX ? Math.log2(Math.max(x, 1e-12)) : x);
  const ty = (y: number): number => (c.logY ? Math.log10(y) : y);
  let [x0, x1] = pts.length ? [Math.min(...pts.map((p) => tx(p[0]))), Math.max(...pts.map((p) => tx(p[0])))] : [0, 1];
  let [y0, y1] = c.yRange ? [ty(c.yRange[0]), ty(c.yRange[1])] : pts.length ? [Math.min(...pts.map((p) => ty(p[1]))), Math.max(...pts.map((p) => ty(p[1])))] : [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - (c.logY ? 1 : Math.abs(y0) * 0.1 + 1e-3), y1 + (c.logY ? 1 : Math.abs(y1) * 0.1 + 1e-3)];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number): number => M.left + ((tx(x) - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => M.top + ph - ((ty(y) - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(`<g transform="translate(${dx},${dy})">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(c.title)}</text>`);
  // y ticks and grid
  const yTicks = c.logY ? logTicks(y0, y1) : niceTicks(y0, y1);
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y}" dy="4" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  const xTicks = c.logX ? niceTicks(x0, x1).filter((t) => Number.isInteger(t)).map((t) => 2 ** t) : niceTicks(x0, x1);
  for (const t of xTicks) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${M.left + pw / 2}" y="${M.top + ph + 34}" text-anchor="middle" font-size="12">${esc(c.xLabel)}</text>`);
  parts.push(`<text transform="translate(16,${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(c.yLabel)}</text>`);
  // series
  c.series.forEach((s, i) => {
    const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!c.logY || y > 0));
    if (ok.length > 0) {
      const d = ok.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
      if (s.markers) for (const [x, y] of ok) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    const lx = M.left + (i % 2) * (pw / 2);
    const ly = M.top + ph + 52 + Math.floor(i / 2) * 14;
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 24}" y="${ly}" font-size="11">${esc(s.name)}</text>`);
  });
  parts.push('</g>');
  return parts.join('\n');
};

/** Charts laid out side by side in one standalone SVG document. */
export const renderCharts = (charts: readonly Chart[], heading?: string): string => {
  const top = heading ? 26 : 0;
  const width = W * charts.length;
  const height = H + top;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    heading ? `<text x="10" y="18" font-size="13">${esc(heading)}</text>` : '',
    ...charts.map((c, i) => chartGroup(c, i * W, top)),
    '</svg>',
    '',
  ].join('\n');
};

/** Trailing moving average over at most `window` defined values (x of the last one). */
export const movingAverage = (pts: ReadonlyArray<readonly [number, number]>, window: number): Array<[number, number]> => {
  const out: Array<[number, number]> = [];
  let sum = 0;
  for (let i = 0; i < pts.length; i++) {
    sum += pts[i][1];
    if (i >= window) sum -= pts[i - window][1];
    out.push([pts[i][0], sum / Math.min(i + 1, window)]);
  }
  return out;
};

/** At most `n` points, evenly thinned (keeps the last point). */
const thin = <P>(pts: readonly P[], n: number): P[] => {
  if (pts.length <= n) return [...pts];
  const stride = pts.length / n;
  const out: P[] = [];
  for (let i = 0; i < n; i++) out.push(pts[Math.floor(i * stride)]);
  out[out.length - 1] = pts[pts.length - 1];
  return out;
};

/** The run's loss and accuracy curves (train smoothed over steps, eval as dots) as one SVG. */
export const renderTrainingCurves = (records: readonly MetricRecord[], heading?: string): string => {
  const train = records.filter((r): r is TrainRecord => r.kind === 'train');
  const evals = records.filter((r) => r.kind === 'eval');
  const window = Math.max(1, Math.round(train.length / 100));
  const loss = thin(movingAverage(train.map((r) => [r.step, r.loss] as const), window), 800);
  const lm = thin(movingAverage(train.map((r) => [r.step, r.lm_loss] as const), window), 800);
  const halted = train.filter((r) => r.exact_accuracy !== undefined);
  const hWindow = Math.max(1, Math.round(halted.length / 50));
  const trainExact = thin(movingAverage(halted.map((r) => [r.step, r.exact_accuracy as number] as const), hWindow), 800);
  const trainTok = thin(movingAverage(halted.map((r) => [r.step, r.accuracy as number] as const), hWindow), 800);
  const lossChart: Chart = {
    title: 'Training loss (per sequence)',
    xLabel: 'optimizer step',
    yLabel: 'loss',
    logY: true,
    series: [
      { name: `total / batch (avg of ${window})`, color: '#1f77b4', points: loss },
      { name: 'lm loss / batch', color: '#ff7f0e', points: lm },
      ...(evals.length ? [{ name: 'eval lm loss', color: '#d62728', points: evals.map((r) => [r.step, r.lm_loss] as const), markers: true }] : []),
    ],
  };
  const accChart: Chart = {
    title: 'Accuracy',
    xLabel: 'optimizer step',
    yLabel: 'fraction',
    yRange: [0, 1],
    series: [
      { name: 'train exact (halted rows)', color: '#1f77b4', points: trainExact },
      { name: 'train token', color: '#aec7e8', points: trainTok },
      { name: 'eval exact', color: '#d62728', points: evals.map((r) => [r.step, r.exact_accuracy] as const), markers: true },
      { name: 'eval token', color: '#ff9896', points: evals.map((r) => [r.step, r.accuracy] as const), markers: true },
    ],
  };
  return renderCharts([lossChart, accChart], heading);
};

export interface ScalingRow {
  readonly haltMaxSteps: number;
  readonly exactAccuracy: number;
  readonly tokenAccuracy: number;
}

/** Inference-time scaling: accuracy against halt_max_steps (log₂ x axis). */
export const renderScaling = (rows: readonly ScalingRow[], heading?: string): string =>
  renderCharts(
    [
      {
        title: 'Inference-time scaling',
        xLabel: 'halt_max_steps (segments)',
        yLabel: 'accuracy',
        yRange: [0, 1],
        logX: true,
        series: [
          { name: 'exact accuracy', color: '#d62728', points: rows.map((r) => [r.haltMaxSteps, r.exactAccuracy] as const), markers: true },
          { name: 'token accuracy', color: '#1f77b4', points: rows.map((r) => [r.haltMaxSteps, r.tokenAccuracy] as const), markers: true },
        ],
      },
    ],
    heading,
  );
