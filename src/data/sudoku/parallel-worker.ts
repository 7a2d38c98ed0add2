// Worker-thread body of parallel.ts: receives a SlotJob, answers with its SlotResults.
import { parentPort } from 'node:worker_threads';
import { runSlots, type SlotJob } from './parallel.ts';
import { SudokuSolver } from './solver.ts';
import { sudokuShape } from './grid.ts';

let solver: SudokuSolver | undefined;
parentPort!.on('message', (job: SlotJob) => {
  if (solver === undefined || solver.shape.boxRows !== job.boxRows || solver.shape.boxCols !== job.boxCols) solver = new SudokuSolver(sudokuShape(job.boxRows, job.boxCols));
  parentPort!.postMessage(runSlots(job, solver));
});
