import { describe, expect, it } from 'vitest';
import { logTicks, movingAverage, niceTicks, renderScaling, renderTrainingCurves } from './plot.ts';
import type { MetricRecord } from './metrics-log.ts';

describe('plots', () => {
  it('tick values are round and cover the range', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97).every((t) => t % 20 === 0)).toBe(true);
  });

  it('log-axis ticks: powers of ten, 2× and 5× inside a range under two decades, round values in a narrow one', () => {
    expect(logTicks(-3, 1)).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(logTicks(Math.log10(0.07), Math.log10(1.5))).toEqual([0.1, 0.2, 0.5, 1]);
    expect(logTicks(Math.log10(0.25), Math.log10(0.45))).toEqual([0.25, 0.3, 0.35, 0.4, 0.45]);
  });

  it('moving average over a trailing window', () => {
    expect(movingAverage([[1, 2], [2, 4], [3, 6], [4, 8]], 2)).toEqual([[1, 2], [2, 3], [3, 5], [4, 7]]);
  });

  it('training curves: a standalone SVG with one path per series and eval markers', () => {
    const records: MetricRecord[] = [];
    for (let s = 1; s <= 50; s++) {
      records.push({ kind: 'train', step: s, epoch: s / 10, time_s: s, lr: 1e-3, puzzle_emb_lr: 0, loss: 3 / s, lm_loss: 2 / s, q_halt_loss: 0.1, q_continue_loss: 0.1, count: s % 4 === 0 ? 8 : 0, ...(s % 4 === 0 ? { accuracy: s / 50, exact_accuracy: s / 100, q_halt_accuracy: 1, steps: 4 } : {}) });
    }
    records.push({ kind: 'eval', step: 25, epoch: 2.5, time_s: 25, halt_max_steps: 4, count: 10, accuracy: 0.5, exact_accuracy: 0.2, q_halt_accuracy: 0.9, steps: 4, lm_loss: 0.3, q_halt_loss: 0.1 });
    records.push({ kind: 'eval', step: 50, epoch: 5, time_s: 50, halt_max_steps: 4, count: 10, accuracy: 0.8, exact_accuracy: 0.6, q_halt_accuracy: 0.9, steps: 4, lm_loss: 0.1, q_halt_loss: 0.1 });
    const svg = renderTrainingCurves(records, 'run <x>');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('run &lt;x&gt;');
    expect((svg.match(/<path /g) ?? []).length).toBe(7);
    expect((svg.match(/<circle /g) ?? []).length).toBe(2 + 2 + 2);
    expect(svg).not.toContain('NaN');
  });

  it('scaling plot has one marker per row and series', () => {
    const svg = renderScaling([1, 2, 4, 8].map((m) => ({ haltMaxSteps: m, exactAccuracy: m / 10, tokenAccuracy: m / 9 })));
    expect((svg.match(/<circle /g) ?? []).length).toBe(8);
    expect(svg).not.toContain('NaN');
  });
});
