// Tests of the state-dict check against a layout: exact match, missing and mis-shaped tensors
// (all listed in one error), extra tensors as warnings; and the official fixtures' weights
// against the layout their config.json lists.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkStateDict } from './state-dict.ts';
import { readTorchCheckpoint } from './torch-checkpoint.ts';
import { readSafetensors } from './safetensors.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/official-parity/', import.meta.url));
const layout = [
  { name: 'H_init', shape: [4] },
  { name: 'lm_head.weight', shape: [3, 4] },
  { name: 'q_head.bias', shape: [2] },
];
const t = (...shape: number[]) => ({ shape });

describe('checkStateDict', () => {
  it('accepts an exact match with no warnings', () => {
    const m = new Map([['H_init', t(4)], ['lm_head.weight', t(3, 4)], ['q_head.bias', t(2)]]);
    expect(checkStateDict(m, layout, 'w.safetensors')).toEqual({ unexpected: [], warnings: [] });
  });
  it('lists every missing and mis-shaped tensor with both shapes, naming the file', () => {
    const m = new Map([['H_init', t(4, 1)], ['lm_head.weight', t(4, 3)]]);
    const run = () => checkStateDict(m, layout, 'w.safetensors');
    expect(run).toThrow(/^w\.safetensors: weights do not match the model layout \(3 problems\)/);
    expect(run).toThrow(/tensor 'H_init' has shape \[4, 1\], expected \[4\]/);
    expect(run).toThrow(/tensor 'lm_head\.weight' has shape \[4, 3\], expected \[3, 4\]/);
    expect(run).toThrow(/missing tensor 'q_head\.bias' \(expected shape \[2\]\)/);
  });
  it('returns extra tensors as warnings, not errors', () => {
    const m = new Map([['H_init', t(4)], ['rotary_emb.cos_cached', t(9, 4)], ['lm_head.weight', t(3, 4)], ['q_head.bias', t(2)]]);
    const r = checkStateDict(m, layout, 'ck');
    expect(r.unexpected).toEqual(['rotary_emb.cos_cached']);
    expect(r.warnings).toEqual(["ck: tensor 'rotary_emb.cos_cached' [9, 4] is not part of the model layout and is ignored"]);
  });
  it('the official weights and checkpoints match the layout their config describes', () => {
    for (const name of ['sudoku-rope', 'arc-learned']) {
      const config = JSON.parse(readFileSync(`${FIXTURES}${name}/config.json`, 'utf8')) as { state_dict_keys: string[] };
      const st = readSafetensors(readFileSync(`${FIXTURES}${name}/weights.safetensors`), 'weights').tensors;
      // the layout here is read from the safetensors shapes, in config order; the point is that
      // the checkpoint satisfies the same layout and that config and files agree on the names
      const fixtureLayout = config.state_dict_keys.map((k) => ({ name: k, shape: st.get(k)!.shape }));
      const ck = readTorchCheckpoint(readFileSync(`${FIXTURES}${name}/checkpoint`), `${name}/checkpoint`);
      expect(checkStateDict(ck, fixtureLayout, `${name}/checkpoint`).unexpected).toEqual([]);
      expect(() => checkStateDict(ck, [...fixtureLayout, { name: 'extra', shape: [1] }], 'x')).toThrow(/missing tensor 'extra'/);
    }
  });
});
