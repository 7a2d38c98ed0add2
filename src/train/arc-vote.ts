// ARC evaluation by voting (spec §6.6): predictions made on every augmented copy of a test input,
// already mapped back to the original orientation and colours, are grouped per (task, test input)
// by grid; candidates rank by vote count, ties by mean σ(q_halt). pass@K counts a task only when
// every one of its test inputs has the true output among its top K. Also the Kaggle-style
// submission (two attempts per test input). Pure: the undoing of augmentations happens upstream.

export type Grid = ReadonlyArray<ReadonlyArray<number>>;

/** One prediction, in the original task's frame. */
export interface ArcPrediction {
  readonly task: string;
  /** the test input this prediction answers (original frame) */
  readonly input: Grid;
  readonly output: Grid;
  /** q_halt logit of the final segment */
  readonly qHaltLogit: number;
}

/** The true output of one test input of a task, in the task's order of test inputs. */
export interface ArcTruth {
  readonly task: string;
  readonly input: Grid;
  readonly output: Grid;
}

export interface Candidate {
  readonly output: Grid;
  readonly votes: number;
  readonly meanQ: number;
}

export interface TestInputResult {
  readonly task: string;
  readonly index: number;
  readonly candidates: readonly Candidate[];
  /** 1-based rank of the true output among the candidates, or 0 when absent */
  readonly rank: number;
}

export interface ArcScores {
  readonly tasks: number;
  /** K → fraction of tasks with every test input solved within the top K */
  readonly passAtK: ReadonlyMap<number, number>;
  readonly perInput: readonly TestInputResult[];
  /** test inputs that got no prediction at all */
  readonly unanswered: number;
}

export const gridKey = (g: Grid): string => g.map((row) => row.join(',')).join('|');

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Candidates of one test input, best first: by votes, then by mean σ(q_halt). */
export const rankCandidates = (preds: readonly ArcPrediction[]): Candidate[] => {
  const groups = new Map<string, { output: Grid; votes: number; qSum: number }>();
  for (const p of preds) {
    const k = gridKey(p.output);
    const g = groups.get(k) ?? { output: p.output, votes: 0, qSum: 0 };
    g.votes += 1;
    g.qSum += sigmoid(p.qHaltLogit);
    groups.set(k, g);
  }
  return [...groups.values()]
    .map((g) => ({ output: g.output, votes: g.votes, meanQ: g.qSum / g.votes }))
    .sort((a, b) => b.votes - a.votes || b.meanQ - a.meanQ);
};

/** Votes every test input of every task in `truths` and scores pass@K for each K in `ks`. */
export const scoreArc = (predictions: readonly ArcPrediction[], truths: readonly ArcTruth[], ks: readonly number[] = [1, 2, 10, 100, 1000]): ArcScores => {
  const byInput = new Map<string, ArcPrediction[]>();
  for (const p of predictions) {
    const k = `${p.task}\u0000${gridKey(p.input)}`;
    const list = byInput.get(k);
    if (list) list.push(p);
    else byInput.set(k, [p]);
  }
  const perInput: TestInputResult[] = [];
  const indexInTask = new Map<string, number>();
  let unanswered = 0;
  for (const t of truths) {
    const index = indexInTask.get(t.task) ?? 0;
    indexInTask.set(t.task, index + 1);
    const preds = byInput.get(`${t.task}\u0000${gridKey(t.input)}`) ?? [];
    if (preds.length === 0) unanswered += 1;
    const candidates = rankCandidates(preds);
    const want = gridKey(t.output);
    const rank = candidates.findIndex((c) => gridKey(c.output) === want) + 1;
    perInput.push({ task: t.task, index, candidates, rank });
  }
  const tasks = [...indexInTask.keys()];
  const passAtK = new Map<number, number>();
  for (const k of ks) {
    const solved = tasks.filter((task) => perInput.filter((r) => r.task === task).every((r) => r.rank > 0 && r.rank <= k)).length;
    passAtK.set(k, tasks.length ? solved / tasks.length : 0);
  }
  return { tasks: tasks.length, passAtK, perInput, unanswered };
};

/**
 * Kaggle-style submission: for every task, one `{attempt_1, attempt_2}` per test input in order;
 * a missing second candidate repeats the first, a test input with no prediction gets [[0]].
 */
export const submission = (scores: ArcScores): Record<string, Array<{ attempt_1: Grid; attempt_2: Grid }>> => {
  const out: Record<string, Array<{ attempt_1: Grid; attempt_2: Grid }>> = {};
  for (const r of scores.perInput) {
    const first = r.candidates[0]?.output ?? [[0]];
    const second = r.candidates[1]?.output ?? first;
    (out[r.task] ??= [])[r.index] = { attempt_1: first, attempt_2: second };
  }
  return out;
};

/** Splits an augmented puzzle name `<task>_t<d>_<10 colour digits>` (original names have no suffix). */
export const parseAugmentedName = (name: string): { task: string; dihedral: number; colours: number[] | null } => {
  const m = /^(.*)_t([0-7])_(\d{10})$/.exec(name);
  if (!m) return { task: name, dihedral: 0, colours: null };
  return { task: m[1], dihedral: Number(m[2]), colours: [...m[3]].map(Number) };
};
