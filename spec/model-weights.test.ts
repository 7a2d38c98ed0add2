// The one weights loader (src/train/weights.ts) on an official-parity fixture: the safetensors
// weights and the PyTorch checkpoint of the same case load to the same parameters, a tensor outside
// the model layout is reported, and a missing or non-float tensor is named with its file.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors, type SafeTensor } from '../src/io/safetensors.ts';
import { decodeCheckpoint } from '../src/train/checkpoint.ts';
import { configFromFixture } from '../src/model/config.ts';
import { buildLayout } from '../src/model/layout.ts';
import { decodeWeights, looksLikeZip } from '../src/train/weights.ts';

const dir = fileURLToPath(new URL('../fixtures/official-parity/sudoku-rope/', import.meta.url));
const config = configFromFixture(JSON.parse(readFileSync(`${dir}config.json`, 'utf8')), 'config.json');
const safetensors = new Uint8Array(readFileSync(`${dir}weights.safetensors`));
const torchZip = new Uint8Array(readFileSync(`${dir}checkpoint`));

describe('weights loader', () => {
  it('loads the same parameters from safetensors and from the PyTorch checkpoint, each as a checkpoint at step 0', () => {
    expect(looksLikeZip(torchZip)).toBe(true);
    expect(looksLikeZip(safetensors)).toBe(false);
    const a = decodeWeights(safetensors, 'weights.safetensors', { config });
    const b = decodeWeights(torchZip, 'checkpoint', { config });
    expect([a.source, b.source]).toEqual(['safetensors', 'torch']);
    const pa = a.checkpoint.state.parameters;
    const pb = b.checkpoint.state.parameters;
    expect([...pa.keys()].sort()).toEqual(buildLayout(config.arch).map((e) => e.name).sort());
    expect([...pb.keys()].sort()).toEqual([...pa.keys()].sort());
    for (const [name, t] of pa) expect(pb.get(name)!.data).toEqual(t.data);
    expect(a.checkpoint.progress.step).toBe(0);
    // an hrm-ts checkpoint reader refuses plain weights, pointing at the weights loader
    expect(() => decodeCheckpoint(safetensors, 'weights.safetensors')).toThrow(/weights\.safetensors: not an hrm-ts checkpoint .*decodeWeights/);
    expect(() => decodeWeights(torchZip, 'checkpoint')).toThrow(/checkpoint: these weights carry no config/);
  });

  it('reports a tensor outside the layout and names a missing or non-float one', () => {
    const tensors = readSafetensors(safetensors, 'w').tensors;
    const extra = writeSafetensors([...tensors, ['stray.bias', { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } as SafeTensor]]);
    expect(decodeWeights(extra, 'extra.safetensors', { config }).notes.join('\n')).toMatch(/stray\.bias/);
    const missing = writeSafetensors([...tensors].filter(([n]) => !n.endsWith('lm_head.weight')));
    expect(() => decodeWeights(missing, 'missing.safetensors', { config })).toThrow(/missing\.safetensors.*lm_head\.weight/s);
    const ints = writeSafetensors([...tensors].map(([n, t]) => [n, n.endsWith('lm_head.weight') ? { dtype: 'I32', shape: t.shape, data: new Int32Array(t.data.length) } : t] as [string, SafeTensor]));
    expect(() => decodeWeights(ints, 'ints.safetensors', { config })).toThrow(/ints\.safetensors: tensor '[^']*lm_head\.weight' has dtype I32, expected a floating dtype/);
  });
});
