// `hrm solve`: one puzzle through a trained model. Prints the solution and the number of segments
// ACT used; with --trace, the prediction after every segment (with q_halt/q_continue and how many
// cells changed) so the refinement is visible. Exit codes: 0 solved (or shown), 2 bad input.

import { readFileBounded } from '../../io/files.ts';
import { utf8Text } from '../../io/codec.ts';
import { BACKEND_FLAGS, backendFromFlags, createBackend } from '../../backends/registry.ts';
import { ArgsError, helpText, parseFlags, type FlagSpec } from '../args.ts';
import { loadCheckpointForCommand, datasetSizes } from '../load-checkpoint.ts';
import { modelFrom } from '../../train/load-model.ts';
import { checkSudoku, parseMaze, parseSudoku, renderMaze, renderSudoku, solveOne, sudokuFromTokens } from '../../train/solve.ts';
import { solveArcTask } from '../../train/arc-solve.ts';

export const summary = 'solve one puzzle with a checkpoint, optionally tracing every segment';

const FLAGS: Record<string, FlagSpec> = {
  checkpoint: { kind: 'string', help: "checkpoint file, a run directory (its latest checkpoint), or an original run folder (all_config.yaml + checkpoint or step_<N>)" },
  config: { kind: 'string', help: "config for weights that carry none: the original's all_config.yaml or a JSON config (default: the one beside the checkpoint)" },
  data: { kind: 'string', help: "the dataset the model was trained on (gives the sizes all_config.yaml does not record)" },
  puzzle: { kind: 'string', help: "a Sudoku as 16, 36 or 81 characters, '.' or '0' for blanks" },
  maze: { kind: 'string', help: "a text file with a square maze ('#' wall, ' ' open, 'S' start, 'G' goal)" },
  'arc-task': { kind: 'string', help: 'an ARC task JSON (its test inputs are solved; the task must be in the training data)' },
  trace: { kind: 'boolean', help: 'print the prediction after every segment' },
  json: { kind: 'boolean', help: 'print one JSON object instead of boards: every segment\'s tokens, q_halt, q_continue, cells changed' },
  full: { kind: 'boolean', help: 'run all halt_max_steps segments even after ACT would halt' },
  'halt-max-steps': { kind: 'int', help: "segment limit (default: the config's halt_max_steps)", min: 1 },
  ...BACKEND_FLAGS,
  help: { kind: 'boolean', help: 'this text' },
};
const USAGE = 'usage: hrm solve --checkpoint <file|run dir|original run folder> [--config <file>] (--puzzle <chars> | --maze <file> | --arc-task <json>) [--trace]';

export const run = async (argv: readonly string[]): Promise<number> => {
  let f: import('../args.ts').FlagValues;
  try {
    f = parseFlags('hrm solve', argv, FLAGS).flags;
    if (f.help) {
      console.log(helpText(USAGE, FLAGS));
      return 0;
    }
    if (typeof f.checkpoint !== 'string') throw new ArgsError('hrm solve: --checkpoint is required');
    const given = ['puzzle', 'maze', 'arc-task'].filter((k) => f[k] !== undefined);
    if (given.length !== 1) throw new ArgsError(`hrm solve: give exactly one of --puzzle, --maze, --arc-task${given.length ? ` (got ${given.map((g) => `--${g}`).join(', ')})` : ''}`);
  } catch (e) {
    if (e instanceof ArgsError) {
      console.error(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  let input: { tokens: Int32Array; show: (t: ArrayLike<number>) => string; check?: (t: ArrayLike<number>) => string } | undefined;
  try {
    if (typeof f.puzzle === 'string') {
      const p = parseSudoku(f.puzzle);
      input = {
        tokens: p.tokens,
        show: (t) => renderSudoku(p.shape, sudokuFromTokens(p.shape, t)),
        check: (t) => checkSudoku(p.shape, p.board, sudokuFromTokens(p.shape, t)),
      };
    } else if (typeof f.maze === 'string') {
      const m = parseMaze(utf8Text(readFileBounded(f.maze, 1 << 20, 'maze drawing'), f.maze), f.maze);
      input = { tokens: m.tokens, show: (t) => renderMaze(m.side, t) };
    }
  } catch (e) {
    console.error(`hrm solve: ${(e as Error).message}`);
    return 2;
  }
  let sizes;
  try {
    sizes = datasetSizes(f.data, 'train');
  } catch (e) {
    console.error(`hrm solve: ${(e as Error).message}`);
    return 2;
  }
  if (typeof f.data === 'string' && sizes === undefined) {
    console.error(`hrm solve: --data ${f.data}: no train/dataset.json there`);
    return 2;
  }
  const loaded = loadCheckpointForCommand('solve', f.checkpoint as string, f.config, sizes ?? (input ? { seq_len: input.tokens.length } : {}));
  if (loaded === null) return 2;
  const { checkpoint, file } = loaded;
  const backend = await createBackend(backendFromFlags(f).name, backendFromFlags(f).options);
  const hrm = await modelFrom(checkpoint, backend, file);
  try {
    const a = checkpoint.config.arch;
    const M = typeof f['halt-max-steps'] === 'number' ? f['halt-max-steps'] : a.halt_max_steps;
    if (typeof f['arc-task'] === 'string') return await solveArcTask(hrm, checkpoint, f['arc-task'], M, f.trace === true);
    if (input === undefined) return 2;
    if (input.tokens.length !== a.seq_len) {
      console.error(`hrm solve: the model was trained on sequences of ${a.seq_len} cells, this puzzle has ${input.tokens.length}`);
      return 2;
    }
    if (input.tokens.some((t) => t >= a.vocab_size)) {
      console.error(`hrm solve: the puzzle uses tokens the model does not know (vocab ${a.vocab_size}); is this the right checkpoint?`);
      return 2;
    }
    const out = await solveOne(hrm, input.tokens, 0, M, f.full === true);
    if (f.json) {
      const segments = out.traces.map((t) => ({ segment: t.segment, tokens: Array.from(t.predictions), q_halt: t.qHalt, q_continue: t.qContinue, changed: t.changed }));
      console.log(JSON.stringify({ backend: backend.name, description: backend.description, segments_used: out.segmentsUsed, halt_max_steps: M, segments }));
      return 0;
    }
    if (f.trace) {
      for (const t of out.traces) {
        console.log(`segment ${t.segment}: q_halt ${t.qHalt.toFixed(3)}  q_continue ${t.qContinue.toFixed(3)}  ${t.segment === 1 ? '' : `${t.changed} cells changed`}${t.segment === out.segmentsUsed ? '  ← ACT halts here' : ''}`);
        console.log(input.show(t.predictions));
        console.log('');
      }
    }
    console.log(`solution after ${out.segmentsUsed} segment${out.segmentsUsed === 1 ? '' : 's'} (of at most ${M}):`);
    console.log(input.show(out.predictions));
    if (input.check) console.log(`check: ${input.check(out.predictions)}`);
    return 0;
  } finally {
    await hrm.dispose();
    await backend.close?.();
  }
};
