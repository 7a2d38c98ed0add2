// A sweep: the same base config trained as several variants (config overrides) for several seeds
// at one budget, each run's final held-out evaluation collected, and per variant the mean and
// spread over seeds. The plan file's codec, the run list, the statistics and the markdown table.
// Pure: running `hrm train` / `hrm eval` and reading files is scripts/sweep.ts's business.

import * as t from 'io-ts';
import { ConfigError, decodeOrThrow, intIn, strictObject } from '../io/codec.ts';

const VariantCodec = strictObject('variant', {
  /** short name: the run directories are <out>/<name>-s<seed> */
  name: t.string,
  /** `key=value` config overrides on top of the plan's (validated by the config codec when the run starts) */
  overrides: [t.array(t.string), []],
  /** another config file instead of the plan's (e.g. a TRM config beside the HRM one) */
  config: [t.union([t.string, t.null]), null],
  /** after training, `hrm eval --scaling` at these halt_max_steps (empty: the training's last evaluation only) */
  scaling: [t.array(intIn(1, 1024)), []],
  /** one line saying what the variant changes */
  note: [t.string, ''],
});
export type SweepVariant = t.TypeOf<typeof VariantCodec>;

export const SweepPlanCodec = strictObject('plan', {
  title: t.string,
  /** the base config (a file or a preset name) */
  config: t.string,
  /** the dataset directory */
  data: t.string,
  /** where the run directories, results.json, results.md and curves.svg go */
  out: t.string,
  threads: [intIn(1, 256), 2],
  seeds: t.array(t.number),
  /** overrides common to every variant: the budget (train.epochs, train.eval_interval, …) */
  overrides: [t.array(t.string), []],
  variants: t.array(VariantCodec),
});
export type SweepPlan = t.TypeOf<typeof SweepPlanCodec>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Decodes a parsed plan file; throws ConfigError naming `source` and the field. */
export const decodePlan = (value: unknown, source: string): SweepPlan => {
  const p = decodeOrThrow(SweepPlanCodec, value, source);
  const problems: string[] = [];
  if (p.seeds.length === 0) problems.push(`${source}: field 'seeds': expected at least one seed`);
  p.seeds.forEach((s, i) => Number.isSafeInteger(s) || problems.push(`${source}: field 'seeds[${i}]': ${s}, expected an integer`));
  if (p.variants.length === 0) problems.push(`${source}: field 'variants': expected at least one variant`);
  const seen = new Set<string>();
  p.variants.forEach((v, i) => {
    if (!NAME.test(v.name)) problems.push(`${source}: field 'variants[${i}].name': '${v.name}', expected letters, digits, '.', '_' or '-' (a directory name)`);
    if (seen.has(v.name)) problems.push(`${source}: field 'variants[${i}].name': '${v.name}' appears twice`);
    seen.add(v.name);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return p;
};

/** One run of the sweep: a variant at a seed, and the `hrm train` arguments after `--config`. */
export interface SweepRun {
  readonly variant: SweepVariant;
  readonly seed: number;
  readonly dir: string;
  readonly config: string;
  readonly overrides: readonly string[];
}

/** The runs in order: variant by variant, each for every seed (the variant's overrides after the plan's, then the seed). */
export const planRuns = (p: SweepPlan): SweepRun[] =>
  p.variants.flatMap((v) =>
    p.seeds.map((seed) => ({
      variant: v,
      seed,
      dir: `${p.out}/${v.name}-s${seed}`,
      config: v.config ?? p.config,
      overrides: [...p.overrides, ...v.overrides, `train.seed=${seed}`],
    })),
  );

/** What one finished run measured (held-out figures from its last evaluation, or from `hrm eval` per halt_max_steps). */
export interface SweepResult {
  readonly variant: string;
  readonly seed: number;
  readonly steps: number;
  readonly train_seconds: number;
  /** 1-minute load average of the machine at the start and the end of the run */
  readonly load: readonly [number, number];
  readonly params: number | null;
  readonly exact: number;
  readonly token: number;
  readonly lm_loss: number;
  /** halt_max_steps → exact accuracy (fixed segments) and exact accuracy where ACT halts */
  readonly scaling: ReadonlyArray<{ readonly halt_max_steps: number; readonly exact: number; readonly token: number; readonly act_exact: number; readonly act_segments: number }>;
}

export interface Spread {
  readonly n: number;
  readonly mean: number;
  /** sample standard deviation (0 for one value) */
  readonly sd: number;
  readonly min: number;
  readonly max: number;
}

/** Mean, sample standard deviation and range of a non-empty list. */
export const spread = (xs: readonly number[]): Spread => {
  if (xs.length === 0) throw new Error('spread of no values');
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
};

export interface VariantSummary {
  readonly variant: string;
  readonly exact: Spread;
  readonly token: Spread;
  /** exact accuracy per evaluated halt_max_steps (fixed segments), over the seeds that have it */
  readonly scaling: ReadonlyArray<{ readonly halt_max_steps: number; readonly exact: Spread; readonly act_exact: Spread }>;
}

/** Per variant (in plan order), the spread over its seeds; variants with no finished run are left out. */
export const summarize = (variants: readonly string[], results: readonly SweepResult[]): VariantSummary[] =>
  variants.flatMap((name) => {
    const rs = results.filter((r) => r.variant === name);
    if (rs.length === 0) return [];
    const levels = [...new Set(rs.flatMap((r) => r.scaling.map((s) => s.halt_max_steps)))].sort((a, b) => a - b);
    return [
      {
        variant: name,
        exact: spread(rs.map((r) => r.exact)),
        token: spread(rs.map((r) => r.token)),
        scaling: levels.map((M) => {
          const at = rs.flatMap((r) => r.scaling.filter((s) => s.halt_max_steps === M));
          return { halt_max_steps: M, exact: spread(at.map((s) => s.exact)), act_exact: spread(at.map((s) => s.act_exact)) };
        }),
      },
    ];
  });

/** Whether two variants' exact-accuracy ranges over seeds do not overlap (a difference larger than the seed spread). */
export const separated = (a: Spread, b: Spread): boolean => a.max < b.min || b.max < a.min;

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const pm = (s: Spread): string => (s.n > 1 ? `${pct(s.mean)} ± ${(100 * s.sd).toFixed(1)} [${pct(s.min)}, ${pct(s.max)}]` : pct(s.mean));

/** The markdown tables: one row per run, then one per variant (mean ± sd [min, max] over seeds), then the scaling levels. */
export const renderTables = (p: SweepPlan, results: readonly SweepResult[]): string => {
  const lines: string[] = [];
  lines.push('| variant | seed | params | steps | training wall time | load (start → end) | held-out exact | held-out token | eval lm loss |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    lines.push(
      `| ${r.variant} | ${r.seed} | ${r.params === null ? '–' : r.params.toLocaleString('en-US')} | ${r.steps} | ${(r.train_seconds / 60).toFixed(1)} min | ${r.load[0].toFixed(1)} → ${r.load[1].toFixed(1)} | ${pct(r.exact)} | ${pct(r.token)} | ${r.lm_loss.toFixed(3)} |`,
    );
  }
  const sums = summarize(
    p.variants.map((v) => v.name),
    results,
  );
  lines.push('');
  lines.push('| variant | what it changes | seeds | held-out exact: mean ± sd [min, max] | held-out token: mean ± sd [min, max] |');
  lines.push('| --- | --- | --- | --- | --- |');
  for (const s of sums) {
    const v = p.variants.find((x) => x.name === s.variant);
    lines.push(`| ${s.variant} | ${v?.note || (v?.overrides.join(' ') ?? '')} | ${s.exact.n} | ${pm(s.exact)} | ${pm(s.token)} |`);
  }
  const withScaling = sums.filter((s) => s.scaling.length > 0);
  if (withScaling.length > 0) {
    lines.push('');
    lines.push('| variant | halt_max_steps at evaluation | exact, all segments run | exact, stopping where ACT halts |');
    lines.push('| --- | --- | --- | --- |');
    for (const s of withScaling) for (const l of s.scaling) lines.push(`| ${s.variant} | ${l.halt_max_steps} | ${pm(l.exact)} | ${pm(l.act_exact)} |`);
  }
  return lines.join('\n') + '\n';
};
