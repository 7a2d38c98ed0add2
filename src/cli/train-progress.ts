// What `hrm train` shows while it runs: a one-line progress bar (step, epoch, loss, exact
// accuracy of the rows that halted, lr, steps/s, ETA) redrawn in place on a terminal, or a plain
// line every few seconds when stderr is not a terminal; a line per evaluation. Display only.

import type { EvalRecord, TrainRecord } from '../train/metrics-log.ts';
import type { EvalSummary } from '../train/evaluate.ts';

const fmtTime = (s: number): string => {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
};

/** The bar text for one step (pure, for tests and for both output modes). */
export const progressLine = (r: { step: number; total: number; epoch: number; loss: number; exact?: number; lr: number; rate: number; width?: number }): string => {
  const width = r.width ?? 24;
  const frac = Math.min(1, r.step / Math.max(1, r.total));
  const filled = Math.round(frac * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const eta = r.rate > 0 ? (r.total - r.step) / r.rate : Infinity;
  return (
    `${bar} ${String(r.step).padStart(String(r.total).length)}/${r.total} ep ${r.epoch.toFixed(1)} ` +
    `loss ${r.loss.toPrecision(4)} exact ${r.exact === undefined ? '  -  ' : (100 * r.exact).toFixed(1).padStart(5) + '%'} ` +
    `lr ${r.lr.toExponential(1)} ${r.rate.toFixed(2)} st/s ETA ${fmtTime(eta)}`
  );
};

export class TrainProgress {
  private readonly tty: boolean;
  private lossAvg = NaN;
  private exactAvg: number | undefined;
  private lastDraw = 0;
  private lastLine = '';
  private readonly t0 = performance.now();
  private firstStep: number | undefined;
  private drawn = false;

  constructor(private readonly options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}) {
    this.tty = (options.stream ?? process.stderr).isTTY === true;
  }

  private get out(): NodeJS.WriteStream {
    return this.options.stream ?? process.stderr;
  }

  private clear(): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }

  step(r: TrainRecord, total: number): void {
    this.firstStep ??= r.step - 1;
    const a = 0.05;
    this.lossAvg = Number.isNaN(this.lossAvg) ? r.loss : (1 - a) * this.lossAvg + a * r.loss;
    if (r.exact_accuracy !== undefined) this.exactAvg = this.exactAvg === undefined ? r.exact_accuracy : 0.8 * this.exactAvg + 0.2 * r.exact_accuracy;
    if (this.options.quiet) return;
    const now = performance.now();
    const interval = this.tty ? 100 : 5000;
    if (now - this.lastDraw < interval && r.step < total) return;
    this.lastDraw = now;
    const rate = (r.step - this.firstStep) / ((now - this.t0) / 1000);
    this.lastLine = progressLine({ step: r.step, total, epoch: r.epoch, loss: this.lossAvg, exact: this.exactAvg, lr: r.lr, rate });
    if (this.tty) {
      this.out.write(`\r\x1b[2K${this.lastLine}`);
      this.drawn = true;
    } else this.out.write(`${this.lastLine}\n`);
  }

  evalProgress(done: number, total: number): void {
    if (this.options.quiet || !this.tty) return;
    this.out.write(`\r\x1b[2Kevaluating ${done}/${total}`);
    this.drawn = true;
  }

  eval(r: EvalRecord, s: EvalSummary): void {
    this.clear();
    this.out.write(
      `eval @ step ${r.step} (epoch ${r.epoch.toFixed(1)}): exact ${(100 * r.exact_accuracy).toFixed(2)}%  token ${(100 * r.accuracy).toFixed(2)}%  ` +
        `q_halt acc ${(100 * r.q_halt_accuracy).toFixed(1)}%  lm_loss ${r.lm_loss.toPrecision(4)}  (${r.count} puzzles, ${r.halt_max_steps} segments; ` +
        `ACT would stop at ${s.act_segments.toFixed(2)} segments with exact ${(100 * s.act_exact_accuracy).toFixed(2)}%)\n`,
    );
  }

  log(message: string): void {
    this.clear();
    this.out.write(`${message}\n`);
  }

  end(): void {
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
