// How much of each measurement a bench run can afford: repetitions, warm-up and skips decided from
// what was already measured, so the default run stays within its time budget (≈30 min) and every
// cut is said out loud. Pure: given estimates and limits, returns a decision.

export interface Limits {
  /** wanted timed repetitions of a step */
  readonly reps: number;
  /** time allowed for the timed repetitions of one (backend, config, phase) */
  readonly caseBudgetMs: number;
  /** a step estimated slower than this is not run */
  readonly maxStepMs: number;
}

export type StepDecision =
  | { readonly run: true; readonly warmup: number; readonly reps: number; readonly note?: string }
  | { readonly run: false; readonly why: string };

const secs = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/**
 * Decides warm-up and repetitions of a step phase. `estimateMs` is the expected time of one call
 * (undefined when nothing is known yet: then one warm-up call measures it); `warm` says whether
 * this backend already ran (its code is compiled); `remainingMs` is what is left of the run budget.
 */
export const decideSteps = (
  estimateMs: number | undefined,
  warm: boolean,
  remainingMs: number,
  limits: Limits,
  basis: string,
): StepDecision => {
  if (estimateMs === undefined) {
    return remainingMs > 0 ? { run: true, warmup: 1, reps: limits.reps } : { run: false, why: 'run budget spent' };
  }
  if (estimateMs > limits.maxStepMs) {
    return { run: false, why: `estimated ${secs(estimateMs)} per call (${basis}) exceeds the ${secs(limits.maxStepMs)} limit (--max-step-s)` };
  }
  // a long call on an already-compiled backend needs no separate warm-up: JIT warm-up is far shorter
  const warmup = warm && estimateMs > 10_000 ? 0 : 1;
  const affordable = Math.floor(Math.min(limits.caseBudgetMs, remainingMs - warmup * estimateMs) / estimateMs);
  if (affordable < 1) {
    return remainingMs < estimateMs * (1 + warmup)
      ? { run: false, why: `estimated ${secs(estimateMs)} per call (${basis}) exceeds the ${secs(Math.max(0, remainingMs))} left of the run budget` }
      : { run: true, warmup, reps: 1, note: `1 repetition: one call takes about ${secs(estimateMs)}` };
  }
  const reps = Math.min(limits.reps, affordable);
  const notes: string[] = [];
  if (reps < limits.reps) notes.push(`${reps} repetition${reps > 1 ? 's' : ''} instead of ${limits.reps}: one call takes about ${secs(estimateMs)}`);
  if (warmup === 0) notes.push('no separate warm-up (already compiled by earlier runs on this backend)');
  return { run: true, warmup, reps, ...(notes.length ? { note: notes.join('; ') } : {}) };
};
