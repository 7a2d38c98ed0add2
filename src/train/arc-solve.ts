// `hrm solve --arc-task`: every test input of one ARC task is solved under each augmentation the
// model was trained with for that task (its puzzle identifiers in the dataset's identifiers.json),
// the predictions are mapped back and voted on (spec §6.6); the two best candidates are printed
// with their votes, and checked when the task file holds the true outputs.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Hrm } from '../model/api.ts';
import { IGNORE_LABEL, type Batch } from '../core/batch.ts';
import { readArcTask } from '../data/arc/task.ts';
import { augmentGrid, encodeArcGrid, arcTransforms } from '../data/arc/transforms.ts';
import { gridToRows } from '../data/dihedral.ts';
import type { Checkpoint } from './checkpoint.ts';
import { gridKey, parseAugmentedName, rankCandidates, type ArcPrediction } from './arc-vote.ts';

const show = (g: ReadonlyArray<ReadonlyArray<number>>): string => g.map((r) => r.join('')).join('\n');

/** Solves an ARC task file; returns the exit code. */
export const solveArcTask = async (hrm: Hrm, checkpoint: Checkpoint, file: string, haltMaxSteps: number, trace: boolean): Promise<number> => {
  const task = readArcTask(file);
  const a = checkpoint.config.arch;
  if (a.seq_len !== 900 || a.vocab_size !== 12) {
    console.error(`hrm solve: --arc-task needs a model trained on ARC (seq_len 900, vocab 12); this one has seq_len ${a.seq_len}, vocab ${a.vocab_size}`);
    return 2;
  }
  const idFile = path.join(checkpoint.progress.dataPath, 'identifiers.json');
  let identifiers: string[];
  try {
    identifiers = JSON.parse(readFileSync(idFile, 'utf8')) as string[];
  } catch {
    console.error(`hrm solve: cannot read ${idFile} (the identifiers of the dataset the model was trained on)`);
    return 2;
  }
  const variants = identifiers
    .map((name, id) => ({ id, ...parseAugmentedName(name) }))
    .filter((v) => v.id > 0 && v.task === task.name);
  if (variants.length === 0) {
    console.error(`hrm solve: task '${task.name}' is not in ${idFile}: HRM learns a puzzle embedding per task, so it can only solve tasks whose demonstrations it was trained on`);
    return 2;
  }
  const B = Math.min(checkpoint.config.train.global_batch_size, variants.length);
  let solved = 0;
  for (const [k, pair] of task.test.entries()) {
    const preds: ArcPrediction[] = [];
    const inputRows = gridToRows(pair.input);
    for (let start = 0; start < variants.length; start += B) {
      const chunk = variants.slice(start, start + B);
      const inputs = new Int32Array(B * 900);
      const ids = new Int32Array(B);
      chunk.forEach((v, b) => {
        const map = v.colours ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        inputs.set(encodeArcGrid(augmentGrid(pair.input, v.dihedral, map), 0, 0), b * 900);
        ids[b] = v.id;
      });
      const batch: Batch = { inputs, labels: new Int32Array(B * 900).fill(IGNORE_LABEL), puzzleIdentifiers: ids, batchSize: B, seqLen: 900 };
      let carry = hrm.initialCarry(B, 900);
      for (let s = 1; s <= haltMaxSteps; s++) {
        const { carry: next, result } = await hrm.evalStep(carry, batch, { haltMaxSteps, weights: hrm.config.train.ema ? 'ema' : 'live' });
        carry = next;
        if (result.allHalted) {
          chunk.forEach((v, b) => {
            const out = arcTransforms.crop(result.predictions.subarray(b * 900, (b + 1) * 900));
            preds.push({ task: task.name, input: inputRows, output: arcTransforms.invert(out, v.dihedral, v.colours), qHaltLogit: result.qHaltLogits[b] });
          });
          break;
        }
      }
      hrm.disposeCarry(carry);
    }
    const ranked = rankCandidates(preds);
    const truth = gridKey(gridToRows(pair.output));
    const rank = ranked.findIndex((c) => gridKey(c.output) === truth) + 1;
    if (rank >= 1 && rank <= 2) solved++;
    console.log(`test input ${k + 1} of ${task.name}: ${preds.length} augmented predictions, ${ranked.length} distinct answers`);
    const shown = trace ? ranked.slice(0, 5) : ranked.slice(0, 2);
    shown.forEach((c, i) => {
      console.log(`attempt ${i + 1}: ${c.votes} votes, mean σ(q_halt) ${c.meanQ.toFixed(3)}${gridKey(c.output) === truth ? '  (correct)' : ''}`);
      console.log(show(c.output));
    });
    console.log(rank > 0 ? `true output ranked ${rank}` : 'true output not among the answers');
  }
  console.log(`${solved}/${task.test.length} test inputs solved within two attempts (${haltMaxSteps} segments each)`);
  return 0;
};
