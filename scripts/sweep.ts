// Runs a sweep plan (src/train/sweep.ts): every variant × seed trained one after another with
// `hrm train` (and `hrm eval --scaling` where the variant asks), then <out>/results.json, the
// markdown tables <out>/results.md and the held-out curves <out>/curves.svg. A finished run (its
// result.json present) is not trained again; an interrupted one resumes from its last checkpoint.
// The machine's 1-minute load average is recorded at the start and the end of each run.
// Usage: nice -n 15 node --import tsx scripts/sweep.ts <plan.json> [--only <variant>[,<variant>…]] [--tables-only]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePlan, planRuns, renderTables, type SweepResult, type SweepRun } from '../src/train/sweep.ts';
import { readRecords, type EvalRecord, type TrainRecord } from '../src/train/metrics-log.ts';
import { movingAverage, renderCharts, type Series } from '../src/train/plot.ts';
import { buildLayout, parameterCount } from '../src/model/layout.ts';
import { decodeConfig } from '../src/model/config.ts';

const HRM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/hrm.mjs');
const args = process.argv.slice(2);
const planFile = args[0];
if (planFile === undefined || planFile.startsWith('--')) {
  console.error('usage: scripts/sweep.ts <plan.json> [--only <variant>[,<variant>…]] [--tables-only]');
  process.exit(2);
}
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set((args[onlyAt + 1] ?? '').split(',')) : null;
const tablesOnly = args.includes('--tables-only');
const plan = decodePlan(JSON.parse(readFileSync(planFile, 'utf8')), planFile);
mkdirSync(plan.out, { recursive: true });

const hrm = (argv: string[]): void => {
  const r = spawnSync(process.execPath, [HRM, ...argv], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`hrm ${argv.join(' ')}: exit ${r.status ?? r.signal}`);
};

/** The run's figures from its directory (metrics.jsonl, config.json, eval-sweep/eval.json). */
const collect = (run: SweepRun, load: readonly [number, number]): SweepResult => {
  const records = readRecords(path.join(run.dir, 'metrics.jsonl'));
  const train = records.filter((r): r is TrainRecord => r.kind === 'train');
  const evals = records.filter((r): r is EvalRecord => r.kind === 'eval');
  const last = evals[evals.length - 1];
  if (last === undefined || train.length === 0) throw new Error(`${run.dir}/metrics.jsonl: no evaluation recorded`);
  const saved = JSON.parse(readFileSync(path.join(run.dir, 'config.json'), 'utf8')) as { config?: unknown };
  const config = decodeConfig(saved.config, `${run.dir}/config.json: field 'config'`);
  const scaling: Array<SweepResult['scaling'][number]> = [];
  const evalFile = path.join(run.dir, 'eval-sweep', 'eval.json');
  if (run.variant.scaling.length > 0) {
    const rep = JSON.parse(readFileSync(evalFile, 'utf8')) as { levels: Array<{ haltMaxSteps: number; exact_accuracy: number; accuracy: number; act_exact_accuracy: number; act_segments: number }> };
    for (const l of rep.levels) scaling.push({ halt_max_steps: l.haltMaxSteps, exact: l.exact_accuracy, token: l.accuracy, act_exact: l.act_exact_accuracy, act_segments: l.act_segments });
  }
  return {
    variant: run.variant.name,
    seed: run.seed,
    steps: train[train.length - 1].step,
    train_seconds: train[train.length - 1].time_s,
    load,
    params: parameterCount(buildLayout(config.arch)),
    exact: last.exact_accuracy,
    token: last.accuracy,
    lm_loss: last.lm_loss,
    scaling,
  };
};

const results: SweepResult[] = [];
for (const run of planRuns(plan)) {
  const resultFile = path.join(run.dir, 'result.json');
  if (existsSync(resultFile)) {
    results.push(JSON.parse(readFileSync(resultFile, 'utf8')) as SweepResult);
    continue;
  }
  if (tablesOnly || (only !== null && !only.has(run.variant.name))) continue;
  const start = loadavg()[0];
  console.error(`sweep: ${run.variant.name} seed ${run.seed} (load ${start.toFixed(2)})`);
  const resume = existsSync(path.join(run.dir, 'checkpoints'));
  const common = ['--data', plan.data, '--backend', 'simd', '--threads', String(plan.threads), '--out', run.dir, '--quiet'];
  hrm(resume ? ['train', ...common, '--resume'] : ['train', '--config', run.config, ...common, ...run.overrides.map((o) => `--${o}`)]);
  if (run.variant.scaling.length > 0) {
    hrm(['eval', '--checkpoint', run.dir, '--scaling', run.variant.scaling.join(','), '--backend', 'simd', '--threads', String(plan.threads), '--out', path.join(run.dir, 'eval-sweep')]);
  }
  const result = collect(run, [start, loadavg()[0]]);
  writeFileSync(resultFile, JSON.stringify(result, null, 1) + '\n');
  results.push(result);
  console.error(`sweep: ${run.variant.name} seed ${run.seed}: exact ${(100 * result.exact).toFixed(1)}%, token ${(100 * result.token).toFixed(1)}%, ${(result.train_seconds / 60).toFixed(1)} min`);
}

writeFileSync(path.join(plan.out, 'results.json'), JSON.stringify(results, null, 1) + '\n');
const tables = renderTables(plan, results);
writeFileSync(path.join(plan.out, 'results.md'), `# ${plan.title}\n\n${tables}`);
console.log(tables);

// held-out curves of every finished run, one colour per variant
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const colorOf = (name: string): string => COLORS[plan.variants.findIndex((v) => v.name === name) % COLORS.length];
const finished = planRuns(plan).filter((r) => results.some((x) => x.variant === r.variant.name && x.seed === r.seed));
const logs = finished.map((r) => ({ run: r, records: readRecords(path.join(r.dir, 'metrics.jsonl')) }));
const series = (pick: (rs: ReturnType<typeof readRecords>) => Series['points'], markers: boolean): Series[] =>
  logs.map(({ run, records }) => ({ name: `${run.variant.name} s${run.seed}`, color: colorOf(run.variant.name), points: pick(records), markers }));
const evalsOf = (rs: ReturnType<typeof readRecords>) => rs.filter((r): r is EvalRecord => r.kind === 'eval');
writeFileSync(
  path.join(plan.out, 'curves.svg'),
  renderCharts(
    [
      {
        title: 'Training lm loss (moving average of 25 steps)', xLabel: 'optimizer step', yLabel: 'lm loss / batch', logY: true,
        series: series((rs) => movingAverage(rs.filter((r): r is TrainRecord => r.kind === 'train').map((x) => [x.step, x.lm_loss] as const), 25), false),
      },
      { title: 'Held-out token accuracy', xLabel: 'optimizer step', yLabel: 'fraction', yRange: [0, 1], series: series((rs) => evalsOf(rs).map((e) => [e.step, e.accuracy] as const), true) },
      { title: 'Held-out exact accuracy', xLabel: 'optimizer step', yLabel: 'fraction', yRange: [0, 1], series: series((rs) => evalsOf(rs).map((e) => [e.step, e.exact_accuracy] as const), true) },
    ],
    plan.title,
  ),
);
console.error(`sweep: ${path.join(plan.out, 'results.md')}, ${path.join(plan.out, 'curves.svg')}`);
