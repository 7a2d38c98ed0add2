// `hrm export`: writes a checkpoint's weights for the original implementation: `checkpoint` (a
// PyTorch zip, as torch.save writes a state dict, streamed tensor by tensor) or
// `weights.safetensors`, plus the `all_config.yaml` the original's pretrain.py and evaluate.py
// read (HRM's trainer's, or TRM's for a TRM model: its arch name and fields, and the EMA copy as the
// weights when the run kept one, as TRM's step_N files hold). Any checkpoint loadWeights reads can be
// exported (so a torch checkpoint converts to safetensors and back). Files are written atomically. Exit codes: 0 written, 2 bad input, 1 failure.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Tensor } from '../../core/tensor.ts';
import { buildLayout, layoutModules } from '../../model/layout.ts';
import { allConfigYaml, originalProblem } from '../../model/original-config.ts';
import { writeFileAtomic } from '../../io/atomic-file.ts';
import { writeSafetensors, type SafeTensor } from '../../io/safetensors.ts';
import { writeTorchCheckpoint, type TensorToWrite } from '../../io/torch-checkpoint.ts';
import { ArgsError, helpText, parseFlags, type FlagSpec } from '../args.ts';
import { loadCheckpointForCommand } from '../load-checkpoint.ts';

export const summary = 'write a checkpoint for the original implementation (PyTorch checkpoint or safetensors + all_config.yaml)';

const FLAGS: Record<string, FlagSpec> = {
  checkpoint: { kind: 'string', help: 'what to export (also the first argument): a checkpoint file, a run directory, or an original run folder' },
  format: { kind: 'string', help: 'torch (a `checkpoint` file torch.load reads) or safetensors (`weights.safetensors`)', choices: ['torch', 'safetensors'] },
  prefix: {
    kind: 'string',
    help: "key prefix: compiled (`_orig_mod.model.inner.`, what the original's compiled model saves and loads; torch default), plain (`model.inner.`, DISABLE_COMPILE) or none (the bare names; safetensors default)",
    choices: ['compiled', 'plain', 'none'],
  },
  dtype: {
    kind: 'string',
    help: "the original's forward_dtype: bfloat16 (default; H_init/L_init stored in bf16 as its bf16 training saves them, every other weight float32) or float32 (all float32)",
    choices: ['float32', 'bfloat16'],
  },
  weights: { kind: 'string', help: 'live or ema (default: ema when the run kept one, as TRM saves its EMA copy)', choices: ['live', 'ema'] },
  config: { kind: 'string', help: "config for weights that carry none (default: all_config.yaml or config.json beside them)" },
  data: { kind: 'string', help: "data_path (TRM: data_paths) written into all_config.yaml (default: the dataset the checkpoint was trained on)" },
  out: { kind: 'string', help: 'output folder (created)' },
  help: { kind: 'boolean', help: 'this text' },
};
const USAGE = 'usage: hrm export <checkpoint> --format torch|safetensors [--prefix compiled|plain|none] [--dtype float32|bfloat16] --out <dir>';
const PREFIXES = { compiled: '_orig_mod.model.inner.', plain: 'model.inner.', none: '' } as const;

export const run = async (argv: readonly string[]): Promise<number> => {
  const positional = argv.length > 0 && !argv[0].startsWith('--') ? argv[0] : undefined;
  let f;
  try {
    f = parseFlags('hrm export', positional === undefined ? argv : argv.slice(1), FLAGS).flags;
    if (f.help) {
      console.log(helpText(USAGE, FLAGS));
      return 0;
    }
    if (positional !== undefined && f.checkpoint !== undefined) throw new ArgsError('hrm export: give the checkpoint once (as the first argument or --checkpoint)');
    if (positional === undefined && typeof f.checkpoint !== 'string') throw new ArgsError('hrm export: which checkpoint? (the first argument)');
    if (typeof f.format !== 'string') throw new ArgsError('hrm export: --format torch|safetensors is required');
    if (typeof f.out !== 'string') throw new ArgsError('hrm export: --out <dir> is required');
  } catch (e) {
    if (e instanceof ArgsError) {
      console.error(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const format = f.format as 'torch' | 'safetensors';
  const prefix = PREFIXES[(f.prefix as keyof typeof PREFIXES | undefined) ?? (format === 'torch' ? 'compiled' : 'none')];
  const dtype = (f.dtype as 'float32' | 'bfloat16' | undefined) ?? 'bfloat16';
  const loaded = loadCheckpointForCommand('export', positional ?? (f.checkpoint as string), f.config);
  if (loaded === null) return 2;
  const { checkpoint, file } = loaded;
  const config = checkpoint.config;
  const problem = originalProblem(config);
  if (problem !== null) {
    console.error(`hrm export: ${file}: ${problem}`);
    return 2;
  }
  const useEma = f.weights === 'ema' || (f.weights === undefined && config.train.ema && checkpoint.state.ema !== undefined);
  if (useEma && checkpoint.state.ema === undefined) {
    console.error(`hrm export: --weights ema: ${file} holds no EMA copy`);
    return 2;
  }
  /** The EMA copy as TRM saves it: the averaged parameters, with the live buffers (H_init, L_init, the puzzle table). */
  const weightOf = (name: string): Tensor<Float64Array> => (useEma ? checkpoint.state.ema!.get(name) : undefined) ?? checkpoint.state.parameters.get(name)!;
  /** bf16 for H_init/L_init when exporting for a bf16 forward pass (the original keeps them in forward_dtype). */
  const storedAs = (name: string): 'float32' | 'bfloat16' => (dtype === 'bfloat16' && (name === 'H_init' || name === 'L_init') ? 'bfloat16' : 'float32');
  const layout = buildLayout(config.arch);
  const out = f.out as string;
  mkdirSync(out, { recursive: true });
  let target: string;
  let bytes: number;
  if (format === 'torch') {
    const tensors: TensorToWrite[] = layout.map((e) => ({ key: prefix + e.name, shape: e.shape, data: weightOf(e.name).data, dtype: storedAs(e.name) }));
    target = path.join(out, 'checkpoint');
    bytes = writeFileAtomic(target, (sink) =>
      writeTorchCheckpoint(sink, tensors, { stem: 'checkpoint', modules: layoutModules(config.arch, prefix.replace(/\.$/, '')) }),
    );
  } else {
    const entries: Array<[string, SafeTensor]> = layout.map((e) => {
      const f32 = Float32Array.from(weightOf(e.name).data);
      return [prefix + e.name, { dtype: storedAs(e.name) === 'bfloat16' ? 'BF16' : 'F32', shape: e.shape, data: f32 }]; // the writer rounds BF16 to nearest even
    });
    target = path.join(out, 'weights.safetensors');
    const data = writeSafetensors(entries);
    bytes = writeFileAtomic(target, (sink) => sink.write(data));
  }
  const dataPath = typeof f.data === 'string' ? f.data : checkpoint.progress.dataPath || config.train.data_path || '';
  writeFileAtomic(path.join(out, 'all_config.yaml'), (sink) => sink.write(new TextEncoder().encode(allConfigYaml(config, dtype, dataPath))));
  console.log(
    `wrote ${target} (${bytes} bytes, ${layout.length} tensors under '${prefix}', ${dtype === 'bfloat16' ? 'H_init/L_init bf16, the rest float32' : 'float32'}${useEma ? ', EMA weights' : ''}) and ${path.join(out, 'all_config.yaml')}`,
  );
  return 0;
};
