// What `hrm analyze` shows of an AnalysisResult: three SVG figures (forward residuals across all
// updates, PCA trajectories, PR against the number of puzzles) and a short text summary with the
// PR table. Pure string building on top of the training plots' chart renderer.

import { renderCharts, type Chart, type Series } from '../train/plot.ts';
import type { AnalysisResult, ModelAnalysis, ResidualStep } from './analysis.ts';
import type { Interval } from './pr.ts';

const COLORS = { L: '#1f77b4', H: '#d62728', Lband: '#aec7e8', Hband: '#ff9896', frozenL: '#2ca02c', frozenH: '#9467bd' };

const residualSeries = (steps: readonly ResidualStep[], label: string, colors: { L: string; H: string }, bands?: { L: string; H: string }): Series[] => {
  const of = (m: 'L' | 'H') => steps.filter((s) => s.module === m && s.count > 0);
  const out: Series[] = [
    { name: `${label} z_L (L updates), mean`, color: colors.L, points: of('L').map((s) => [s.index, s.mean] as const) },
    { name: `${label} z_H (H updates, dots), mean`, color: colors.H, points: of('H').map((s) => [s.index, s.mean] as const), markers: true },
  ];
  if (bands) {
    out.push({ name: 'z_L 10th–90th percentile', color: bands.L, points: [...of('L').map((s) => [s.index, s.p10] as const), ...of('L').reverse().map((s) => [s.index, s.p90] as const)] });
    out.push({ name: 'z_H 10th–90th percentile', color: bands.H, points: [...of('H').map((s) => [s.index, s.p10] as const), ...of('H').reverse().map((s) => [s.index, s.p90] as const)] });
  }
  return out;
};

/** Forward residuals ‖z_t − z_{t−1}‖/‖z_{t−1}‖ on a log scale: trained (with spread), H frozen, untrained. */
export const renderResiduals = (r: AnalysisResult, heading: string): string => {
  const perSegment = r.trained.residuals.length / r.segments;
  const xLabel = `update (${perSegment} per segment, ${r.segments} segments)`;
  const charts: Chart[] = [
    { title: 'Trained: forward residuals', xLabel, yLabel: 'relative residual', logY: true, series: residualSeries(r.trained.residuals, 'trained', COLORS, { L: COLORS.Lband, H: COLORS.Hband }) },
  ];
  if (r.frozen !== null) {
    const fx = `update (H_cycles 1, L_cycles ${r.frozen.L_cycles})`;
    charts.push({ title: 'Same weights, H frozen within a segment', xLabel: fx, yLabel: 'relative residual', logY: true, series: residualSeries(r.frozen.residuals, 'H frozen', { L: COLORS.frozenL, H: COLORS.frozenH }) });
  }
  charts.push({ title: 'Untrained (same config and seed)', xLabel, yLabel: 'relative residual', logY: true, series: residualSeries(r.untrained.residuals, 'untrained', COLORS) });
  return renderCharts(charts, heading);
};

const PUZZLE_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** The first puzzles' trajectories on PC1–PC2 of z_H and of z_L (fitted on all analysed puzzles' states). */
export const renderTrajectories = (r: AnalysisResult, heading: string): string => {
  const chart = (m: 'z_H' | 'z_L'): Chart => {
    const t = r.trained.trajectories[m];
    const pct = (i: number) => `${(100 * (t.explained[i] ?? 0)).toFixed(1)}%`;
    return {
      title: `${m} trajectories (PCA of ${t.fitted_puzzles} puzzles' states)`,
      xLabel: `PC1 (${pct(0)} of the variance)`,
      yLabel: `PC2 (${pct(1)})`,
      series: t.points.map((pts, p) => ({ name: `puzzle ${p + 1} (${pts.length} states)`, color: PUZZLE_COLORS[p % PUZZLE_COLORS.length], points: pts.map((c) => [c[0], c[1] ?? 0] as const), markers: true })),
    };
  };
  return renderCharts([chart('z_H'), chart('z_L')], heading);
};

/** PR against the number of puzzles (mean over random subsets), trained and untrained, both flattenings. */
export const renderPrCurves = (r: AnalysisResult, heading: string): string => {
  const chart = (kind: 'per_puzzle' | 'per_token', title: string): Chart => {
    const s = (m: ModelAnalysis, z: 'z_H' | 'z_L') => m.pr_curve[kind][z].map((p) => [p.puzzles, p.mean] as const);
    return {
      title,
      xLabel: 'puzzles used',
      yLabel: 'participation ratio',
      logX: true,
      series: [
        { name: 'trained z_H', color: COLORS.H, points: s(r.trained, 'z_H'), markers: true },
        { name: 'trained z_L', color: COLORS.L, points: s(r.trained, 'z_L'), markers: true },
        { name: 'untrained z_H', color: COLORS.Hband, points: s(r.untrained, 'z_H'), markers: true },
        { name: 'untrained z_L', color: COLORS.Lband, points: s(r.untrained, 'z_L'), markers: true },
      ],
    };
  };
  return renderCharts([chart('per_puzzle', 'PR, one sample per puzzle (S·D flattened)'), chart('per_token', 'PR, one sample per position (D)')], heading);
};

const iv = (x: Interval): string => `${x.value.toFixed(2)} [${x.lo.toFixed(2)}, ${x.hi.toFixed(2)}]`;

/** The PR table as markdown rows: module, PR trained, PR untrained, per flattening, and the H/L ratios. */
export const prTable = (r: AnalysisResult): string[] => {
  const rows = ['| samples | module | PR trained | PR untrained |', '|---|---|---|---|'];
  for (const [kind, label] of [['per_puzzle', 'per puzzle (S·D)'], ['per_token', 'per position (D)']] as const) {
    for (const z of ['z_H', 'z_L'] as const) rows.push(`| ${label} | ${z} | ${iv(r.trained.pr[kind][z])} | ${iv(r.untrained.pr[kind][z])} |`);
    rows.push(`| ${label} | ratio z_H/z_L | ${iv(r.trained.pr[kind].ratio)} | ${iv(r.untrained.pr[kind].ratio)} |`);
  }
  return rows;
};

/** Mean residual of the first and last update of a module, and of the L update right after each H update. */
const convergenceLine = (steps: readonly ResidualStep[], label: string): string => {
  const L = steps.filter((s) => s.module === 'L' && s.count > 0);
  const H = steps.filter((s) => s.module === 'H' && s.count > 0);
  const afterH = steps.filter((s, i) => i > 0 && s.module === 'L' && steps[i - 1].module === 'H' && s.count > 0);
  const beforeH = steps.filter((s, i) => s.module === 'L' && steps[i + 1]?.module === 'H' && s.count > 0);
  const mean = (xs: readonly ResidualStep[]) => (xs.length ? xs.reduce((a, s) => a + s.mean, 0) / xs.length : NaN);
  const f = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : 'n/a');
  return `${label}: z_L residual ${f(L[0]?.mean ?? NaN)} → ${f(L.at(-1)?.mean ?? NaN)} (mean before an H update ${f(mean(beforeH))}, right after one ${f(mean(afterH))}); z_H residual ${f(H[0]?.mean ?? NaN)} → ${f(H.at(-1)?.mean ?? NaN)}`;
};

/** A few lines for the terminal. */
export const summaryText = (r: AnalysisResult): string => {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return [
    `${r.puzzles} puzzles, ${r.segments} segments (${r.mode === 'act' ? 'each stopped where ACT halts' : 'every segment'}), S ${r.positions} × D ${r.hidden}`,
    `trained: exact ${pct(r.trained.exact_accuracy)}, ACT halts after ${r.trained.act_segments.toFixed(2)} segments on average; untrained: exact ${pct(r.untrained.exact_accuracy)}`,
    convergenceLine(r.trained.residuals, 'trained'),
    ...(r.frozen ? [convergenceLine(r.frozen.residuals, `H frozen (L_cycles ${r.frozen.L_cycles})`)] : []),
    convergenceLine(r.untrained.residuals, 'untrained'),
    `participation ratio of the final states (bootstrap 95% interval, ${r.bootstrap} replicates):`,
    ...prTable(r),
  ].join('\n');
};
