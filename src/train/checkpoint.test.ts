// The checkpoint codec: everything needed for an exact resume survives a round trip; a plain
// weights file (the official-parity fixtures) loads as parameters given a config; bad metadata
// is reported with the file and the field.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tensor64 } from '../core/tensor.ts';
import { configFromFixture } from '../model/config.ts';
import { writeSafetensors } from '../io/safetensors.ts';
import { decodeCheckpoint, encodeCheckpoint, nonFiniteTensors, type Checkpoint } from './checkpoint.ts';

const fixture = 'fixtures/official-parity/sudoku-rope';
const config = configFromFixture(JSON.parse(readFileSync(`${fixture}/config.json`, 'utf8')), 'config.json');

const sample = (dtype: 'F64' | 'F32'): Checkpoint => ({
  config,
  dtype,
  state: {
    parameters: new Map([['lm_head.weight', tensor64([2, 3], [0.1, -0.2, 1 / 3, 4, 5, 6])], ['H_init', tensor64([3], [1, 2, 3])]]),
    adamM: new Map([['lm_head.weight', tensor64([2, 3], [1e-9, 0, 0, 0, 0, 7])]]),
    adamV: new Map([['lm_head.weight', tensor64([2, 3], [1e-12, 0, 0, 0, 0, 2])]]),
    optimizerStep: 17,
    rng: { s: [1, 2, 3, 4294967295] },
  },
  progress: { step: 17, iteration: 1, data: { seed: 0, iteration: 2, cursor: 40, rng: { s: [5, 6, 7, 8] } }, dataPath: '/data/x' },
  carry: {
    zH: tensor64([1, 2, 2], [0.5, 1 / 7, -2, 3]),
    zL: tensor64([1, 2, 2], [9, 8, 7, 6]),
    steps: Int32Array.of(3),
    halted: Uint8Array.of(0),
    currentData: { inputs: Int32Array.of(1, 2), labels: Int32Array.of(-100, 4), puzzleIdentifiers: Int32Array.of(0), batchSize: 1, seqLen: 2 },
  },
});

describe('checkpoint codec', () => {
  it('round-trips float64 state, carry, counters, rng and data state exactly', () => {
    const c = sample('F64');
    const d = decodeCheckpoint(encodeCheckpoint(c), 'x.safetensors');
    expect(d.config).toEqual(config);
    expect(d.dtype).toBe('F64');
    expect(d.progress).toEqual(c.progress);
    expect(d.state.optimizerStep).toBe(17);
    expect(d.state.rng).toEqual(c.state.rng);
    expect([...d.state.parameters.keys()].sort()).toEqual(['H_init', 'lm_head.weight']);
    expect([...d.state.parameters.get('lm_head.weight')!.data]).toEqual([0.1, -0.2, 1 / 3, 4, 5, 6]);
    expect([...d.state.adamV.get('lm_head.weight')!.data]).toEqual([1e-12, 0, 0, 0, 0, 2]);
    expect([...d.carry!.zH.data]).toEqual([0.5, 1 / 7, -2, 3]);
    expect([...d.carry!.currentData.labels]).toEqual([-100, 4]);
    expect(d.carry!.currentData).toMatchObject({ batchSize: 1, seqLen: 2 });
    expect(d.carry!.steps[0]).toBe(3);
  });

  it('float32 checkpoints store float32 values', () => {
    const d = decodeCheckpoint(encodeCheckpoint(sample('F32')), 'x.safetensors');
    expect(d.dtype).toBe('F32');
    expect(d.state.parameters.get('lm_head.weight')!.data[2]).toBe(Math.fround(1 / 3));
  });

  it('refuses a plain weights file (those load through the weights loader), naming it', () => {
    const bytes = new Uint8Array(readFileSync(`${fixture}/weights.safetensors`));
    expect(() => decodeCheckpoint(bytes, 'weights.safetensors')).toThrow(/weights\.safetensors: not an hrm-ts checkpoint \(no 'format' metadata\)/);
  });

  it('names bad metadata', () => {
    const bytes = writeSafetensors([['H_init', { dtype: 'F32', shape: [1], data: Float32Array.of(1) }]], { format: 'hrm-ts-checkpoint/1', config: '{', progress: '{}', optimizer_step: '0', rng: '{}' });
    expect(() => decodeCheckpoint(bytes, 'bad.safetensors')).toThrow(/bad\.safetensors: metadata 'config' is not valid JSON/);
  });

  it('finds non-finite values', () => {
    const c = sample('F64');
    expect(nonFiniteTensors(c.state)).toEqual([]);
    const bad = { ...c.state, adamV: new Map([['lm_head.weight', tensor64([1], [Number.NaN])]]) };
    expect(nonFiniteTensors(bad)).toEqual(['optimizer.adam_v.lm_head.weight']);
  });
});
