// Bench point: peak memory of loading a PyTorch checkpoint the size of the ARC-2 release (a
// puzzle table of ~1.1M × 512 float32 plus the rest of the ARC-2 model, ≈ 2.4 GB). It writes the
// synthetic checkpoint itself (hrm's torch writer, H_init/L_init bf16, `_orig_mod.model.inner.`
// keys, as the original's GPU training saves), then loads it in fresh processes and reports the
// peak resident set size (getrusage maxrss) against the file's size:
//   reader   readTorchStateDict from the file (float32 tensors, what the 1.3× target is about)
//   weights  loadWeights with all_config.yaml (the model's float64 parameters: 2× the float32 data by design)
// Usage: node --import tsx bench/torch-load.ts [--rows 1123000] [--dir <tmp>] [--keep]
// Prints a JSON line and a markdown table; the file is deleted afterwards unless --keep.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../src/model/config.ts';
import { buildLayout, layoutModules } from '../src/model/layout.ts';
import { allConfigYaml } from '../src/model/original-config.ts';
import { writeFileAtomic } from '../src/io/atomic-file.ts';
import { withFileSource } from '../src/io/file-source.ts';
import { readTorchStateDict, writeTorchCheckpoint, type TensorToWrite } from '../src/io/torch-checkpoint.ts';
import { loadWeights } from '../src/train/load-model.ts';
import { readFileSync } from 'node:fs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const mib = (b: number): string => (b / 2 ** 20).toFixed(0);

interface ChildResult {
  mode: string;
  tensors: number;
  seconds: number;
  rssBefore: number;
  peakRss: number;
}

/** Runs one step in a fresh process (so its peak RSS is its own). */
const runChild = (mode: string, dir: string, rows: number): ChildResult => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', mode, '--dir', dir, '--rows', String(rows)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${mode} child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
};

/** Writes the synthetic checkpoint (streamed) and its all_config.yaml into `dir`. */
const writeSynthetic = (dir: string, rows: number): number => {
  const preset = parseConfigText(readFileSync(path.join(ROOT, 'configs/arc-2.json'), 'utf8'), 'configs/arc-2.json');
  const config = { ...preset, arch: { ...preset.arch, num_puzzle_identifiers: rows } };
  let seed = 1;
  const tensors: TensorToWrite[] = buildLayout(config.arch).map((e) => {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i += 97) data[i] = ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.04; // sparse values: cheap to make
    return { key: `_orig_mod.model.inner.${e.name}`, shape: e.shape, data, dtype: e.name === 'H_init' || e.name === 'L_init' ? 'bfloat16' : 'float32' };
  });
  writeFileAtomic(path.join(dir, 'checkpoint'), (sink) => writeTorchCheckpoint(sink, tensors, { stem: 'checkpoint', modules: layoutModules(config.arch, '_orig_mod.model.inner') }));
  writeFileSync(path.join(dir, 'all_config.yaml'), allConfigYaml(config, 'bfloat16', 'data/arc-2-aug-1000'));
  return tensors.length;
};

const child = (mode: string, dir: string, rows: number): void => {
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const file = path.join(dir, 'checkpoint');
  let tensors = 0;
  if (mode === 'write') {
    tensors = writeSynthetic(dir, rows);
  } else if (mode === 'reader') {
    const sd = withFileSource(file, (src) => readTorchStateDict(src, file));
    tensors = sd.tensors.size;
  } else {
    const loaded = loadWeights(dir, { sizes: { seq_len: 900, vocab_size: 12, num_puzzle_identifiers: rows } });
    tensors = loaded.checkpoint.state.parameters.size;
  }
  const seconds = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024; // KiB → bytes
  process.stdout.write(JSON.stringify({ mode, tensors, seconds, rssBefore: before, peakRss: peak }) + '\n');
};

const main = (): void => {
  if (process.argv.includes('--child')) {
    child(arg('child')!, arg('dir')!, Number(arg('rows')));
    return;
  }
  const rows = Number(arg('rows') ?? 1_123_000);
  const base = arg('dir') ?? os.tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, 'hrm-torch-load-'));
  try {
    const t0 = performance.now();
    runChild('write', dir, rows);
    const size = statSync(path.join(dir, 'checkpoint')).size;
    const writeSeconds = (performance.now() - t0) / 1000;
    const results = ['reader', 'weights'].map((mode) => runChild(mode, dir, rows));
    const summary = { rows, fileBytes: size, writeSeconds, results: results.map((r) => ({ ...r, peakOverFile: r.peakRss / size })) };
    process.stdout.write(JSON.stringify(summary) + '\n');
    console.log(`\nsynthetic ARC-2-size checkpoint: ${rows} × 512 puzzle table + the ARC-2 model, ${mib(size)} MiB, written (streamed) in ${writeSeconds.toFixed(1)} s\n`);
    console.log('| load | tensors | seconds | RSS before MiB | peak RSS MiB | peak / file size |');
    console.log('|---|---|---|---|---|---|');
    for (const r of summary.results) {
      console.log(`| ${r.mode === 'reader' ? 'readTorchStateDict (float32 tensors)' : 'loadWeights (float64 parameters)'} | ${r.tensors} | ${r.seconds.toFixed(1)} | ${mib(r.rssBefore)} | ${mib(r.peakRss)} | ${r.peakOverFile.toFixed(2)}× |`);
    }
  } finally {
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
};

main();
