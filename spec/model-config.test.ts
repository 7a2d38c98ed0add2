// The configuration, layout and initialization, as examples: presets decode and give the
// parameter counts of spec §1.2 and the anchors; the fixture configs decode to their `derived`
// sizes; bad input (unknown key, wrong type, bad override, missing or mis-shaped weights) fails
// with a message naming the file/field; init follows spec §1.9 and is reproducible by seed.

import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyOverrides, configFromFixture, deriveSizes, parseConfigText, roundHalfEven } from '../src/model/config.ts';
import { buildLayout, parameterCount, parameterNames } from '../src/model/layout.ts';
import { erf, erfinv, initialValues, TRUNC_STD_FACTOR, truncatedNormal } from '../src/model/init.ts';
import { Rng } from '../src/core/rng.ts';
import { createHrm } from '../src/model/hrm.ts';
import { referenceBackend } from '../src/reference/backend.ts';
import type { Backend } from '../src/core/backend.ts';
import { tensor64 } from '../src/core/tensor.ts';

const ROOT = join(import.meta.dirname, '..');
const preset = (name: string) => parseConfigText(readFileSync(join(ROOT, 'configs', `${name}.json`), 'utf8'), `${name}.json`);

describe('presets', () => {
  it('every preset decodes and has a description', () => {
    const files = readdirSync(join(ROOT, 'configs')).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const c = parseConfigText(readFileSync(join(ROOT, 'configs', f), 'utf8'), f);
      expect(c.description.length, f).toBeGreaterThan(20);
    }
  });

  it('parameter counts: paper Sudoku/Maze/ARC (spec §1.2) and the anchors’ bench configs', () => {
    const count = (n: string) => parameterCount(buildLayout(preset(n).arch));
    expect(count('sudoku-extreme-1k')).toBe(27_275_266);
    expect(count('maze-30x30-hard-1k')).toBe(27_270_146);
    expect(count('arc-1')).toBe(27_276_290);
    expect(count('sudoku-hard-full')).toBe(27_275_266 + 82 * 512); // learned positions add S×D
    expect(count('bench-tiny')).toBe(263_682);
    expect(count('bench-small')).toBe(1_051_650);
    expect(count('bench-medium')).toBe(6_821_890);
    expect(count('bench-paper-width')).toBe(27_275_266);
    const s = deriveSizes(preset('sudoku-extreme-1k').arch);
    expect(s).toMatchObject({ headDim: 64, puzzleEmbLen: 1, totalSeqLen: 82, swigluInter: 1536 });
  });

  it('the fixture config.json files decode to their derived sizes, names and counts', () => {
    for (const name of ['sudoku-rope', 'arc-learned']) {
      const json = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'official-parity', name, 'config.json'), 'utf8'));
      const c = configFromFixture(json, 'config.json');
      const d = deriveSizes(c.arch);
      expect(d.headDim).toBe(json.derived.head_dim);
      expect(d.puzzleEmbLen).toBe(json.derived.puzzle_emb_len);
      expect(d.totalSeqLen).toBe(json.derived.total_seq_len);
      expect(d.swigluInter).toBe(json.derived.swiglu_intermediate);
      const layout = buildLayout(c.arch);
      expect(parameterCount(layout)).toBe(json.derived.num_trainable_parameters);
      expect(layout.map((e) => e.name)).toEqual(json.state_dict_keys);
      expect(parameterNames(layout)).toEqual(json.parameter_names);
      expect(c.arch.loss_type).toBe(json.loss_type);
    }
  });

  it('SwiGLU size rounds like Python (half to even) before rounding up to 256', () => {
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(1365.33)).toBe(1365);
    const base = preset('test-tiny').arch;
    // expansion·D·2/3 = 384.5 exactly → 384 (even) → 512; a round-half-up would give 385 → 512 too, so
    // pick a case where it matters: 256.5 → 256 stays 256, half-up 257 → 512
    const a = { ...base, hidden_size: 171, num_heads: 1, expansion: 2.25 }; // 2.25·171·2/3 = 256.5
    expect(deriveSizes(a).swigluInter).toBe(256);
  });
});

describe('bad configuration input', () => {
  const good = () => JSON.parse(readFileSync(join(ROOT, 'configs', 'test-tiny.json'), 'utf8'));

  it('rejects an unknown key, naming it and its section', () => {
    const j = good();
    j.arch.hiden_size = 3;
    expect(() => parseConfigText(JSON.stringify(j), 'my.json')).toThrow(/my\.json: field 'arch\.hiden_size': unknown key 'hiden_size'/);
    const k = good();
    k.trian = {};
    expect(() => parseConfigText(JSON.stringify(k), 'my.json')).toThrow(/unknown key 'trian'/);
  });

  it('rejects a wrong type, naming the field and the expected type', () => {
    const j = good();
    j.arch.hidden_size = '512';
    expect(() => parseConfigText(JSON.stringify(j), 'my.json')).toThrow(/my\.json: field 'arch\.hidden_size': expected an integer ≥ 1, got "512"/);
    const k = good();
    k.arch.pos_encodings = 'alibi';
    expect(() => parseConfigText(JSON.stringify(k), 'my.json')).toThrow(/field 'arch\.pos_encodings': expected one of 'rope', 'learned', 'none', got "alibi"/);
    const m = good();
    delete m.arch.vocab_size;
    expect(() => parseConfigText(JSON.stringify(m), 'my.json')).toThrow(/missing required field 'vocab_size'/);
    expect(() => parseConfigText('{"arch": ', 'my.json')).toThrow(/my\.json: not valid JSON/);
  });

  it('rejects cross-field problems (heads not dividing hidden)', () => {
    const j = good();
    j.arch.num_heads = 3;
    expect(() => parseConfigText(JSON.stringify(j), 'my.json')).toThrow(/'arch\.num_heads': 3 does not divide hidden_size 16/);
  });

  it('key=value overrides go through the same codec', () => {
    const c = preset('sudoku-extreme-1k');
    const o = applyOverrides(c, ['--arch.L_cycles=8', 'lr=3e-4', 'arch.loss.loss_type=softmax_cross_entropy', 'pos_encodings=learned']);
    expect(o.arch.L_cycles).toBe(8);
    expect(o.train.lr).toBe(3e-4);
    expect(o.arch.loss_type).toBe('softmax_cross_entropy');
    expect(o.arch.pos_encodings).toBe('learned');
    expect(c.arch.L_cycles).toBe(2); // the input is not modified
    expect(() => applyOverrides(c, ['hidden=3'])).toThrow(/unknown key 'hidden'/);
    expect(() => applyOverrides(c, ['arch.hidden_size=abc'])).toThrow(/field 'arch\.hidden_size': expected an integer ≥ 1, got "abc"/);
    expect(() => applyOverrides(c, ['train.ema=yes'])).toThrow(/field 'train\.ema': expected boolean/);
    expect(() => applyOverrides(c, ['lr'])).toThrow(/not of the form key=value/);
  });

  it("HRM with mlp_t: both levels' blocks mix tokens with the sequence-axis SwiGLU (no attention weights); rope refused", () => {
    const c = applyOverrides(preset('sudoku-extreme-1k'), ['arch.mlp_t=true', 'arch.pos_encodings=none']);
    const names = parameterNames(buildLayout(c.arch));
    for (const level of ['H_level', 'L_level']) {
      for (let i = 0; i < 4; i++) {
        expect(names).toContain(`${level}.layers.${i}.mlp_t.gate_up_proj.weight`);
        expect(names).toContain(`${level}.layers.${i}.mlp.down_proj.weight`);
      }
    }
    expect(names.some((n) => n.includes('self_attn'))).toBe(false);
    // per block: mlp_t over S = 81 cells + 1 puzzle slot (I_t = 256) replaces qkv and o (4·512²); 8 blocks
    const { mlpTInter: It, totalSeqLen: S } = deriveSizes(c.arch);
    expect([It, S]).toEqual([256, 82]);
    const attention = parameterCount(buildLayout(preset('sudoku-extreme-1k').arch));
    expect(parameterCount(buildLayout(c.arch))).toBe(attention - 8 * 4 * 512 * 512 + 8 * 3 * It * S);
    expect(() => applyOverrides(preset('sudoku-extreme-1k'), ['arch.mlp_t=true'])).toThrow(/field 'arch\.pos_encodings': 'rope' rotates attention/);
  });
});

describe('initialization (spec §1.9)', () => {
  it('erf/erfinv are accurate and the truncation factor is 1.1368472343', () => {
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(2 / Math.SQRT2)).toBeCloseTo(0.9544997361036416, 14);
    for (const y of [-0.95, -0.3, 0, 0.1, 0.7, 0.954]) expect(erf(erfinv(y))).toBeCloseTo(y, 14);
    expect(TRUNC_STD_FACTOR).toBeCloseTo(1.1368472343, 9);
  });

  it('the truncated normal has the requested std and stays within ±2·comp_std', () => {
    const std = 0.05;
    const x = truncatedNormal(Rng.fromSeed(3), 200_000, std);
    let s = 0;
    let s2 = 0;
    let max = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
      max = Math.max(max, Math.abs(v));
    }
    expect(max).toBeLessThanOrEqual(2 * std * TRUNC_STD_FACTOR);
    expect(max).toBeGreaterThan(1.99 * std * TRUNC_STD_FACTOR);
    const mean = s / x.length;
    expect(Math.abs(mean)).toBeLessThan(5e-4);
    expect(Math.sqrt(s2 / x.length - mean * mean)).toBeCloseTo(std, 3);
  });

  it('per-tensor init: LeCun std, zero q_head weight, bias −5, zero puzzle table, unit H_init/L_init; same seed, same values', () => {
    const a = preset('test-tiny-puzzle').arch;
    const layout = buildLayout(a);
    const v = initialValues(layout, Rng.fromSeed(7));
    const std = (name: string) => {
      const d = v.get(name)!.data;
      return Math.sqrt(d.reduce((s, x) => s + x * x, 0) / d.length);
    };
    expect(v.get('q_head.weight')!.data.every((x) => x === 0)).toBe(true);
    expect(Array.from(v.get('q_head.bias')!.data)).toEqual([-5, -5]);
    expect(v.get('puzzle_emb.weights')!.data.every((x) => x === 0)).toBe(true);
    const I = deriveSizes(a).swigluInter;
    expect(std('L_level.layers.0.mlp.down_proj.weight')).toBeCloseTo(1 / Math.sqrt(I), 2);
    expect(std('L_level.layers.0.mlp.gate_up_proj.weight')).toBeCloseTo(1 / Math.sqrt(16), 2);
    expect(Math.max(...v.get('H_init')!.data.map(Math.abs))).toBeLessThanOrEqual(2 * TRUNC_STD_FACTOR);
    const again = initialValues(layout, Rng.fromSeed(7));
    for (const [k, t] of v) expect(Array.from(again.get(k)!.data)).toEqual(Array.from(t.data));
    const other = initialValues(layout, Rng.fromSeed(8));
    expect(Array.from(other.get('lm_head.weight')!.data)).not.toEqual(Array.from(v.get('lm_head.weight')!.data));
  });
});

describe('bad state dicts', () => {
  it('loadState names a missing tensor, a mis-shaped tensor and an unknown one', async () => {
    const c = preset('test-tiny');
    const hrm = createHrm(c, { backend: referenceBackend as Backend<unknown>, seed: 1 });
    const state = await hrm.saveState();
    const missing = new Map(state.parameters);
    missing.delete('lm_head.weight');
    expect(() => hrm.loadState({ parameters: missing })).toThrow(/missing 'lm_head\.weight' \(expected shape \[11, 16\]\)/);
    const bad = new Map(state.parameters);
    bad.set('q_head.bias', tensor64([3], [0, 0, 0]));
    expect(() => hrm.loadState({ parameters: bad })).toThrow(/'q_head\.bias' has shape \[3\], expected \[2\]/);
    const extra = new Map(state.parameters);
    extra.set('embed_pos.embedding_weight', tensor64([1], [0]));
    expect(() => hrm.loadState({ parameters: extra })).toThrow(/unexpected entry 'embed_pos\.embedding_weight'/);
    hrm.loadState({ parameters: state.parameters }); // the complete state loads
    await hrm.dispose();
  });
});
