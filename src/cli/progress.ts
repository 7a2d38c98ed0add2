// A terminal progress bar for long commands: total, current, named fields, rate and ETA, redrawn in
// place on a TTY (at most ~10 times a second); when the stream is not a TTY (CI, logs, pipes) a
// plain line every few seconds instead, and always a final line. Plus a small helper to print an
// aligned end-of-run summary. Display only: it never affects what a command computes.

export interface ProgressOptions {
  /** what is being counted, e.g. "puzzles" (shown after the counts) */
  readonly unit?: string;
  /** output stream (default process.stderr) */
  readonly stream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean; columns?: number };
  /** seconds between plain lines when not a TTY (default 5) */
  readonly plainInterval?: number;
  /** print nothing at all */
  readonly silent?: boolean;
  /** clock in milliseconds (tests) */
  readonly now?: () => number;
}

export type Fields = Readonly<Record<string, string | number>>;

/** Formats seconds as m:ss or h:mm:ss ('--:--' when unknown). */
export const formatDuration = (s: number): string => {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
};

const formatRate = (r: number): string => (r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2));

/**
 * The text of one progress line (pure). `total` ≤ 0 means unknown: no bar and no ETA.
 * Example: "generating train ███████░░░  700/1000 puzzles  48.2/s  ETA 0:06  tried 1680".
 */
export const progressText = (label: string, current: number, total: number, elapsedS: number, fields: Fields = {}, unit = '', width = 24): string => {
  const rate = elapsedS > 0 ? current / elapsedS : 0;
  const parts = [label];
  if (total > 0) {
    const frac = Math.min(1, Math.max(0, current / total));
    const filled = Math.round(frac * width);
    parts.push('█'.repeat(filled) + '░'.repeat(width - filled));
    parts.push(`${String(current).padStart(String(total).length)}/${total}${unit ? ' ' + unit : ''}`);
  } else {
    parts.push(`${current}${unit ? ' ' + unit : ''}`);
  }
  parts.push(`${formatRate(rate)}/s`);
  if (total > 0) parts.push(current >= total ? `in ${formatDuration(elapsedS)}` : `ETA ${formatDuration(rate > 0 ? (total - current) / rate : Infinity)}`);
  else parts.push(formatDuration(elapsedS));
  for (const [k, v] of Object.entries(fields)) parts.push(`${k} ${v}`);
  return parts.join('  ');
};

/** A progress bar over one phase; `update` often, `done` once. */
export class ProgressBar {
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastLen = 0;
  private current = 0;
  private fields: Fields = {};
  private readonly tty: boolean;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly now: () => number;
  private finished = false;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly options: ProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    if (!this.tty) this.lastDraw = this.start; // plain mode: first line after one interval
  }

  /** Seconds since the bar was created. */
  elapsed(): number {
    return (this.now() - this.start) / 1000;
  }

  /** Sets the position (and optionally the total and fields); draws when due. */
  update(current: number, fields?: Fields, total?: number): void {
    this.current = current;
    if (fields) this.fields = fields;
    if (total !== undefined) this.total = total;
    const t = this.now();
    const interval = this.tty ? 100 : (this.options.plainInterval ?? 5) * 1000;
    if (t - this.lastDraw >= interval) {
      this.lastDraw = t;
      this.draw(false);
    }
  }

  /** Draws the final state and ends the line. */
  done(fields?: Fields): void {
    if (this.finished) return;
    this.finished = true;
    if (fields) this.fields = fields;
    if (this.total > 0) this.current = Math.max(this.current, 0);
    this.draw(true);
  }

  private draw(final: boolean): void {
    if (this.options.silent) return;
    const columns = (this.stream as { columns?: number }).columns ?? 120;
    let text = progressText(this.label, this.current, this.total, this.elapsed(), this.fields, this.options.unit);
    if (this.tty) {
      if (text.length > columns - 1) text = text.slice(0, columns - 1);
      const pad = Math.max(0, this.lastLen - text.length);
      this.stream.write(`\r${text}${' '.repeat(pad)}${final ? '\n' : ''}`);
      this.lastLen = text.length;
    } else {
      this.stream.write(`${text}\n`);
    }
  }
}

/**
 * Aligned "key  value" summary lines, e.g. formatSummary('train', {groups: 1000, examples: 4000}).
 * Nested string arrays (histograms) are indented under their key.
 */
export const formatSummary = (title: string, entries: Readonly<Record<string, string | number | readonly string[]>>): string => {
  const keys = Object.keys(entries);
  const w = Math.max(0, ...keys.map((k) => k.length));
  const lines = [title];
  for (const k of keys) {
    const v = entries[k];
    if (Array.isArray(v)) {
      lines.push(`  ${k}:`);
      for (const l of v as readonly string[]) lines.push(`    ${l}`);
    } else lines.push(`  ${k.padEnd(w)}  ${v as string | number}`);
  }
  return lines.join('\n');
};
