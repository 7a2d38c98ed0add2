// The progress bar's text (bar, counts, rate, ETA, named fields) and its two output modes: redrawn
// in place on a TTY, a plain line only every few seconds otherwise, always a final line.
import { describe, expect, it } from 'vitest';
import { ProgressBar, formatDuration, formatSummary, progressText } from '../src/cli/progress.ts';

describe('progress text', () => {
  it('shows bar, counts, rate, ETA and fields', () => {
    const s = progressText('gen', 250, 1000, 5, { tried: 600 }, 'puzzles', 8);
    expect(s).toBe('gen  ██░░░░░░   250/1000 puzzles  50.0/s  ETA 0:15  tried 600');
    expect(progressText('gen', 1000, 1000, 20, {}, '', 4)).toBe('gen  ████  1000/1000  50.0/s  in 0:20');
    expect(progressText('read', 42, 0, 2)).toBe('read  42  21.0/s  0:02');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Infinity)).toBe('--:--');
  });
  it('plain mode prints a line per interval and a final line; TTY mode redraws with \\r', () => {
    let t = 0;
    const plain: string[] = [];
    const bar = new ProgressBar('x', 10, { stream: { write: (s: string) => plain.push(s) > 0, isTTY: false }, plainInterval: 5, now: () => t });
    for (let k = 1; k <= 10; k++) {
      t = k * 1000; // one second per unit
      bar.update(k);
    }
    bar.done();
    expect(plain.length).toBe(3); // at 5 s, at 10 s, final
    expect(plain.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    const tty: string[] = [];
    t = 0;
    const bar2 = new ProgressBar('y', 3, { stream: { write: (s: string) => tty.push(s) > 0, isTTY: true, columns: 80 }, now: () => t });
    for (let k = 1; k <= 3; k++) {
      t += 200;
      bar2.update(k);
    }
    bar2.done();
    expect(tty.length).toBe(4);
    expect(tty.every((l) => l.startsWith('\r'))).toBe(true);
    expect(tty[3].endsWith('\n')).toBe(true);
  });
  it('formats an aligned summary with nested lines', () => {
    expect(formatSummary('train:', { groups: 3, 'mean rating': '2.5', hist: ['a', 'b'] })).toBe('train:\n  groups       3\n  mean rating  2.5\n  hist:\n    a\n    b');
  });
});
