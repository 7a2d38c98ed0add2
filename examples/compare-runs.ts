// Runs side by side (the README's HRM-vs-TRM comparison): for each run directory, its lm loss
// (moving average) and its evaluations' token and exact accuracy against the optimizer step, in
// one SVG, and a markdown table of the last evaluation with the wall time of training.
// Usage: node --import tsx examples/compare-runs.ts <out.svg> <label>=<run dir> [<label>=<run dir> …]

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRecords, type EvalRecord, type TrainRecord } from '../src/train/metrics-log.ts';
import { movingAverage, renderCharts, type Series } from '../src/train/plot.ts';

const [out, ...specs] = process.argv.slice(2);
if (out === undefined || specs.length === 0) throw new Error('usage: compare-runs.ts <out.svg> <label>=<run dir> …');
const COLORS = ['#1f77b4', '#aec7e8', '#d62728', '#ff9896', '#2ca02c', '#98df8a'];
const runs = specs.map((s, i) => {
  const eq = s.indexOf('=');
  const records = readRecords(join(s.slice(eq + 1), 'metrics.jsonl'));
  return {
    label: s.slice(0, eq),
    color: COLORS[i % COLORS.length],
    train: records.filter((r): r is TrainRecord => r.kind === 'train'),
    evals: records.filter((r): r is EvalRecord => r.kind === 'eval'),
  };
});
const series = (pick: (r: (typeof runs)[number]) => Series['points'], markers = false): Series[] => runs.map((r) => ({ name: r.label, color: r.color, points: pick(r), markers }));
const svg = renderCharts(
  [
    { title: 'Training lm loss (moving average of 25 steps)', xLabel: 'optimizer step', yLabel: 'lm loss / batch', logY: true, series: series((r) => movingAverage(r.train.map((x) => [x.step, x.lm_loss] as const), 25)) },
    { title: 'Held-out token accuracy', xLabel: 'optimizer step', yLabel: 'fraction', yRange: [0, 1], series: series((r) => r.evals.map((e) => [e.step, e.accuracy] as const), true) },
    { title: 'Held-out exact accuracy', xLabel: 'optimizer step', yLabel: 'fraction', yRange: [0, 1], series: series((r) => r.evals.map((e) => [e.step, e.exact_accuracy] as const), true) },
  ],
  'HRM vs TRM on 6×6 minimal Sudoku (same width, optimizer, batch and step budget)',
);
writeFileSync(out, svg);
console.log('| run | steps | training wall time | held-out exact | held-out token | eval lm loss |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of runs) {
  const e = r.evals[r.evals.length - 1];
  const t = r.train[r.train.length - 1];
  console.log(`| ${r.label} | ${t.step} | ${(t.time_s / 60).toFixed(1)} min | ${(100 * e.exact_accuracy).toFixed(1)}% | ${(100 * e.accuracy).toFixed(1)}% | ${e.lm_loss.toFixed(3)} |`);
}
