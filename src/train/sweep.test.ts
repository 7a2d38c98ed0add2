import { describe, expect, it } from 'vitest';
import { decodePlan, planRuns, renderTables, separated, spread, summarize, type SweepResult } from './sweep.ts';
import { ConfigError } from '../io/codec.ts';

const plan = {
  title: 't',
  config: 'docs/sudoku-6x6-small.json',
  data: 'runs/data',
  out: 'runs/sw',
  seeds: [0, 1],
  overrides: ['train.epochs=8'],
  variants: [
    { name: 'hrm', note: 'as configured' },
    { name: 'flat', overrides: ['arch.H_cycles=1', 'arch.L_cycles=1'], scaling: [1, 4] },
  ],
};

const result = (variant: string, seed: number, exact: number, scaling: SweepResult['scaling'] = []): SweepResult => ({
  variant, seed, steps: 624, train_seconds: 600, load: [2, 3], params: 1000, exact, token: 0.5 + exact / 2, lm_loss: 1, scaling,
});

describe('sweep plan', () => {
  it('decodes with defaults and lists variant × seed runs, the seed override last', () => {
    const p = decodePlan(plan, 'plan.json');
    expect(p.threads).toBe(2);
    const runs = planRuns(p);
    expect(runs.map((r) => r.dir)).toEqual(['runs/sw/hrm-s0', 'runs/sw/hrm-s1', 'runs/sw/flat-s0', 'runs/sw/flat-s1']);
    expect(runs[3].overrides).toEqual(['train.epochs=8', 'arch.H_cycles=1', 'arch.L_cycles=1', 'train.seed=1']);
    expect(runs[0].config).toBe('docs/sudoku-6x6-small.json');
  });

  it('refuses unknown fields, duplicate or unsafe names and empty seed lists, naming the field', () => {
    expect(() => decodePlan({ ...plan, extra: 1 }, 'plan.json')).toThrow(ConfigError);
    expect(() => decodePlan({ ...plan, seeds: [] }, 'plan.json')).toThrow(/plan.json: field 'seeds'/);
    expect(() => decodePlan({ ...plan, seeds: [0.5] }, 'plan.json')).toThrow(/seeds\[0\]/);
    expect(() => decodePlan({ ...plan, variants: [{ name: 'a' }, { name: 'a' }] }, 'plan.json')).toThrow(/appears twice/);
    expect(() => decodePlan({ ...plan, variants: [{ name: '../x' }] }, 'plan.json')).toThrow(/variants\[0\]\.name/);
  });
});

describe('sweep statistics', () => {
  it('spread: mean, sample sd and range', () => {
    const s = spread([0.2, 0.4, 0.6]);
    expect(s.mean).toBeCloseTo(0.4, 12);
    expect(s.sd).toBeCloseTo(0.2, 12);
    expect([s.min, s.max, s.n]).toEqual([0.2, 0.6, 3]);
    expect(spread([0.3]).sd).toBe(0);
    expect(() => spread([])).toThrow();
  });

  it('summarize groups by variant in plan order and averages scaling levels over seeds', () => {
    const lv = (M: number, exact: number) => ({ halt_max_steps: M, exact, token: 0.9, act_exact: exact / 2, act_segments: 2 });
    const rs = [result('flat', 0, 0.1, [lv(1, 0), lv(4, 0.1)]), result('hrm', 0, 0.5), result('flat', 1, 0.3, [lv(1, 0.2), lv(4, 0.3)]), result('hrm', 1, 0.7)];
    const s = summarize(['hrm', 'flat', 'missing'], rs);
    expect(s.map((x) => x.variant)).toEqual(['hrm', 'flat']);
    expect(s[0].exact.mean).toBeCloseTo(0.6, 12);
    expect(s[1].scaling.map((l) => [l.halt_max_steps, l.exact.mean, l.act_exact.mean])).toEqual([
      [1, 0.1, 0.05],
      [4, expect.closeTo(0.2, 12), expect.closeTo(0.1, 12)],
    ]);
    expect(separated(s[0].exact, s[1].exact)).toBe(true);
    expect(separated(spread([0.1, 0.5]), spread([0.4, 0.6]))).toBe(false);
  });

  it('renders a row per run and a mean ± sd [min, max] row per variant', () => {
    const md = renderTables(decodePlan(plan, 'plan.json'), [result('hrm', 0, 0.5), result('hrm', 1, 0.7)]);
    expect(md).toContain('| hrm | 0 | 1,000 | 624 | 10.0 min | 2.0 → 3.0 | 50.0% | 75.0% | 1.000 |');
    expect(md).toContain('| hrm | as configured | 2 | 60.0% ± 14.1 [50.0%, 70.0%] |');
    expect(md).not.toContain('| flat |');
  });
});
