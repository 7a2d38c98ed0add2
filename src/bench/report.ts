// The bench's results: the JSON record (what ran where, medians, extremes, ratios to PyTorch) and
// its markdown rendering, appended to bench/RESULTS.md. Pure: builds values and text, writes nothing.

import type { MachineInfo } from './machine.ts';
import { machineLine } from './machine.ts';
import type { KernelResult } from './kernels.ts';
import type { MemoryResult } from './memory.ts';
import { FLAT_TOLERANCE } from './memory.ts';
import type { Ceiling } from './ceiling.ts';
import type { BreakdownRow, EngineRows, FamilyRow, TimedPhase } from './steps.ts';
import type { Peak } from './peak.ts';
import type { DeviceCounts } from './steps.ts';

export const REPORT_SCHEMA = 'hrm-bench/1';

/** One backend configuration the run tried. */
export interface VariantRecord {
  readonly id: string;
  readonly backend: string;
  readonly mode?: string;
  readonly threads?: number;
  /** PyTorch thread count this variant is compared with */
  readonly ratioThreads: 1 | 2;
  readonly accelerated: boolean;
  readonly available: boolean;
  readonly description?: string;
  readonly reason?: string;
  /** the device's float32 peak (src/bench/peak.ts), null when the device is not in the table */
  readonly peak?: Peak | null;
}

export interface PhaseRecord extends TimedPhase {
  readonly pytorchMs?: number;
  /** PyTorch time / our time (> 1: faster than PyTorch) */
  readonly ratio?: number;
  readonly note?: string;
}

export interface StepRecord {
  readonly variant: string;
  readonly backend: string;
  readonly mode?: string;
  readonly threads?: number;
  readonly config: string;
  readonly train?: PhaseRecord;
  readonly eval?: PhaseRecord;
  readonly breakdown?: readonly BreakdownRow[];
  /** see StepBenchResult.breakdownAttributable */
  readonly breakdownAttributable?: boolean;
  /** see StepBenchResult.replayed */
  readonly replayed?: readonly BreakdownRow[];
  /** see StepBenchResult.families */
  readonly families?: readonly FamilyRow[];
  /** see StepBenchResult.engine */
  readonly engine?: EngineRows;
  /** one thread's ceilings on this machine (ceiling.ts), for the variants that have them */
  readonly ceiling?: Ceiling;
  /** see StepBenchResult.perStep */
  readonly perStep?: DeviceCounts;
  readonly skipped?: string;
}

export interface KernelRecord {
  readonly variant: string;
  readonly config: string;
  readonly results: readonly KernelResult[];
}

export interface MemoryRecord extends MemoryResult {
  readonly variant: string;
  readonly config: string;
}

export interface BenchReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly date: string;
  readonly machine: MachineInfo;
  readonly smoke: boolean;
  readonly options: Readonly<Record<string, unknown>>;
  readonly variants: readonly VariantRecord[];
  readonly kernels: readonly KernelRecord[];
  readonly steps: readonly StepRecord[];
  readonly memory: readonly MemoryRecord[];
  /** everything not measured, with the reason */
  readonly skipped: readonly { readonly what: string; readonly why: string }[];
  readonly wallSeconds: number;
}

const ms = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : x >= 10 ? `${x.toFixed(0)} ms` : `${x.toFixed(2)} ms`);
const num = (x: number | undefined, digits = 2): string => (x === undefined ? '–' : x.toFixed(digits));
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

const bytes = (x: number): string => (x >= 1 << 20 ? `${(x / (1 << 20)).toFixed(2)} MiB` : x >= 1024 ? `${(x / 1024).toFixed(1)} KiB` : `${x.toFixed(0)} B`);

/** "12.3% of the NVIDIA H200 (SXM)'s 67 TFLOP/s float32 peak", or why there is no fraction. */
export const peakLine = (gflops: number, peak: Peak | null): string =>
  peak === null ? 'float32 peak unknown for this device' : `${pct(gflops / 1000 / peak.fp32Tflops)} of the ${peak.device}'s ${peak.fp32Tflops} TFLOP/s float32 peak`;

/** One line of per-step device counts. */
export const countsLine = (c: DeviceCounts): string =>
  `${c.dispatches.toFixed(0)} dispatches, ${(c.copies ?? 0).toFixed(1)} copies, ${c.submits.toFixed(1)} submits, ${c.waits.toFixed(1)} waits for the device, ${c.bufferCreations.toFixed(1)} buffer creations, ` +
  `${c.bindGroupCreations.toFixed(1)} bind-group creations, ${c.pipelineCreations.toFixed(1)} pipeline creations, ` +
  `host→device ${bytes(c.bytesUp)} data + ${bytes(c.paramBytes)} parameter blocks, device→host ${bytes(c.bytesDown)}`;

const phaseCell = (p: PhaseRecord | undefined): string =>
  p === undefined ? '–' : `${ms(p.medianMs)} (${ms(p.minMs)}–${ms(p.maxMs)}, n=${p.reps})`;

const table = (head: readonly string[], rows: readonly (readonly string[])[]): string[] => [
  `| ${head.join(' | ')} |`,
  `|${head.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];

const rate = (f: FamilyRow): string =>
  f.product ? `${(f.gflopPerStep / (f.msPerStep / 1000)).toFixed(1)} GFLOP/s` : f.mbPerStep > 0 ? `${(f.mbPerStep / f.msPerStep).toFixed(2)} GB/s` : '–';

/**
 * Markdown lines setting each kernel family of a step against its ceiling (products: GFLOP/s of the
 * micro-kernel × threads; elementwise: copy bandwidth × threads), the whole step's products against
 * theirs, and the engine's own counts (packing, waiting, workers' busy share).
 */
export const ceilingLines = (families: readonly FamilyRow[], stepMs: number, threads: number, ceiling?: Ceiling, engine?: EngineRows): string[] => {
  const lines: string[] = [];
  const prodCeil = ceiling ? ceiling.productGflops * threads : undefined;
  const memCeil = ceiling ? ceiling.memoryGBps * threads : undefined;
  if (ceiling) {
    lines.push(
      `Against the ceiling at ${threads} thread${threads === 1 ? '' : 's'}: products ${prodCeil!.toFixed(0)} GFLOP/s, memory ${memCeil!.toFixed(0)} GB/s (${threads} × one thread's ${ceiling.productGflops.toFixed(1)} GFLOP/s and ${ceiling.memoryGBps.toFixed(1)} GB/s; ${ceiling.how}). Work = the products' operations, or the least bytes an elementwise family must move:`,
    );
    lines.push('');
  }
  const withCpu = families.some((f) => f.cpuMsPerStep > 0);
  const rows = families
    .filter((f) => f.fraction >= 0.002 || f.family.startsWith('outside'))
    .map((f) => {
      const work = f.product ? `${f.gflopPerStep.toFixed(2)} GFLOP` : f.mbPerStep > 0 ? `${f.mbPerStep.toFixed(1)} MB` : '–';
      const of =
        f.product && prodCeil ? pct(f.gflopPerStep / (f.msPerStep / 1000) / prodCeil) : !f.product && memCeil && f.mbPerStep > 0 ? pct(f.mbPerStep / f.msPerStep / memCeil) : '–';
      // per CPU second: the work over the process CPU time of the family's calls (all threads, spinning included)
      const cpuOf =
        f.cpuMsPerStep <= 0 || !ceiling
          ? '–'
          : f.product
            ? pct(f.gflopPerStep / (f.cpuMsPerStep / 1000) / ceiling.productGflops)
            : f.mbPerStep > 0
              ? pct(f.mbPerStep / f.cpuMsPerStep / ceiling.memoryGBps)
              : '–';
      const row = [f.family, ms(f.msPerStep), pct(f.fraction), work, rate(f), of];
      return withCpu ? [...row, f.cpuMsPerStep > 0 ? ms(f.cpuMsPerStep) : '–', cpuOf] : row;
    });
  const head = ['kernel family', 'time/step', 'share', 'work/step', 'rate', 'of ceiling'];
  lines.push(...table(withCpu ? [...head, 'CPU/step', 'of ceiling per CPU second'] : head, rows));
  lines.push('');
  const gflop = families.reduce((a, f) => a + (f.product ? f.gflopPerStep : 0), 0);
  const stepRate = gflop / (stepMs / 1000);
  const productMs = families.reduce((a, f) => a + (f.product ? f.msPerStep : 0), 0);
  lines.push(
    `Whole step: ${gflop.toFixed(1)} GFLOP of products in ${ms(stepMs)} = ${stepRate.toFixed(1)} GFLOP/s` +
      (prodCeil ? `, ${pct(stepRate / prodCeil)} of the products' ceiling (the products alone: ${pct(gflop / (productMs / 1000) / prodCeil)} in their ${pct(productMs / stepMs)} of the step).` : '.'),
  );
  if (engine) {
    lines.push(
      `Engine: WebAssembly kernels ${ms(engine.dispatchedMsPerStep)}/step on the main thread (${pct(engine.dispatchedMsPerStep / stepMs)}), of which packing ${ms(engine.packingMsPerStep)} and waiting for workers' claimed chunks ${ms(engine.waitMsPerStep)}; ` +
        (engine.workerBusy.length > 0 ? `workers busy ${engine.workerBusy.map(pct).join(', ')} of the step.` : 'no workers.'),
    );
  }
  lines.push('');
  return lines;
};

const peakFraction = (gflops: number, peak: Peak | null): string => (peak === null ? 'unknown' : pct(gflops / 1000 / peak.fp32Tflops));

/** The markdown section of one run: step table, kernel tables, breakdowns, memory, skips. */
export const renderMarkdown = (r: BenchReport): string => {
  const lines: string[] = [];
  lines.push(`## ${r.date.slice(0, 16).replace('T', ' ')} UTC${r.smoke ? ' (smoke run: not a measurement)' : ''}`);
  lines.push('');
  lines.push(`Machine: ${machineLine(r.machine)}. Wall time of the run: ${(r.wallSeconds / 60).toFixed(1)} min.`);
  lines.push('');
  const variants = new Map(r.variants.map((v) => [v.id, v]));
  lines.push('Backends: ' + r.variants.map((v) => (v.available ? `\`${v.id}\` = ${v.description ?? v.backend}` : `\`${v.id}\` unavailable (${v.reason})`)).join('; ') + '.');
  lines.push('');

  // ---- training and eval steps ----
  lines.push('### Training step and evaluation segment');
  lines.push('');
  lines.push('Median (min–max, n = timed repetitions after warm-up). Ratio = PyTorch time / our time at the same thread count (> 1 is faster than PyTorch). CPU/wall = process CPU time over wall time while timing (≈ threads busy; below the thread count when other work on the machine took CPU).');
  lines.push('');
  const stepRows = r.steps.map((s) => {
    const v = variants.get(s.variant);
    return [
      s.variant,
      s.config,
      phaseCell(s.train),
      num(s.train?.gflops, 1),
      s.train === undefined ? '–' : (s.train.gflops / 1000).toFixed(3),
      s.train === undefined || !v?.accelerated ? '–' : peakFraction(s.train.gflops, v.peak ?? null),
      s.train?.pytorchMs !== undefined ? `${ms(s.train.pytorchMs)} (${v?.ratioThreads ?? '?'}t)` : '–',
      num(s.train?.ratio),
      num(s.train?.cpuPerWall),
      phaseCell(s.eval),
      num(s.eval?.ratio),
      [s.skipped, s.train?.note, s.eval?.note ? `eval: ${s.eval.note}` : undefined].filter(Boolean).join('; '),
    ];
  });
  lines.push(...table(['backend', 'config', 'train step', 'GFLOP/s', 'TFLOP/s', 'of fp32 peak', 'PyTorch', 'ratio', 'CPU/wall', 'eval segment', 'eval ratio', 'notes'], stepRows));
  lines.push('');
  const peaks = [...new Set(r.variants.filter((v) => v.available && v.accelerated).map((v) => v.peak?.device).filter((d): d is string => d !== undefined))];
  lines.push(`Fraction of peak: the device's float32 peak from src/bench/peak.ts${peaks.length ? ` (${peaks.join(', ')})` : ''}; "unknown" where the adapter is not in that table.`);
  lines.push('');

  // ---- device work per training step ----
  const counted = r.steps.filter((s) => s.perStep !== undefined);
  if (counted.length > 0) {
    lines.push('### Device work per training step (one step after four others: the steady state)');
    lines.push('');
    const rows = counted.map((s) => {
      const c = s.perStep!;
      return [s.variant, s.config, c.dispatches.toFixed(0), (c.copies ?? 0).toFixed(1), c.submits.toFixed(1), c.waits.toFixed(1), c.bufferCreations.toFixed(1), c.bindGroupCreations.toFixed(1), c.pipelineCreations.toFixed(1), bytes(c.bytesUp), bytes(c.paramBytes), bytes(c.bytesDown)];
    });
    lines.push(...table(['backend', 'config', 'dispatches', 'copies', 'submits', 'waits for the device', 'buffer creations', 'bind-group creations', 'pipeline creations', 'host→device data', 'parameter blocks', 'device→host'], rows));
    lines.push('');
  }

  // ---- kernels: one table per variant, configs as column groups ----
  const kernelVariants = [...new Set(r.kernels.map((k) => k.variant))];
  if (kernelVariants.length > 0) {
    lines.push('### Kernels (median per call, GFLOP/s; elementwise kernels use nominal operation counts)');
    lines.push('');
  }
  for (const vid of kernelVariants) {
    const recs = r.kernels.filter((k) => k.variant === vid);
    const names = [...new Set(recs.flatMap((k) => k.results.map((x) => x.kernel)))];
    const head = ['kernel', ...recs.flatMap((k) => [`${k.config} fwd`, `${k.config} bwd`])];
    const rows = names.map((name) => [
      name,
      ...recs.flatMap((k) => {
        const x = k.results.find((y) => y.kernel === name);
        if (x === undefined) return ['–', '–'];
        const cell = (d: KernelResult['forward'] | undefined): string => (d === undefined ? '–' : `${ms(d.medianMs)} · ${d.gflops.toFixed(2)}`);
        return [cell(x.forward), cell(x.backward)];
      }),
    ]);
    lines.push(`\`${vid}\``);
    lines.push('');
    lines.push(...table(head, rows));
    lines.push('');
  }

  // ---- breakdowns of accelerated variants ----
  const withBreakdown = r.steps.filter((s) => s.breakdown !== undefined && s.train !== undefined && variants.get(s.variant)?.accelerated);
  if (withBreakdown.length > 0) {
    lines.push('### Where a training step\'s time goes (timing proxy around the backend)');
    lines.push('');
  }
  for (const s of withBreakdown) {
    lines.push(`\`${s.variant}\`, ${s.config}: step ${ms(s.train!.medianMs)}`);
    lines.push('');
    if (s.breakdownAttributable === false) {
      if (s.replayed !== undefined) {
        lines.push('This backend queues its work and finishes it later, so per-call times are submission costs. Instead, every kernel call of one recorded step was replayed alone and waited for (net of one synchronisation); shares are of the sum of the replayed times:');
        lines.push('');
        const rows = s.replayed.filter((b) => b.fraction >= 0.005).map((b) => [b.kernel, b.callsPerStep.toFixed(0), ms(b.msPerStep), pct(b.fraction)]);
        lines.push(...table(['kernel', 'calls/step', 'time/step (replayed)', 'share'], rows));
        lines.push('');
        lines.push('The calls as timed inside the step (submission costs; the device work is waited for inside `read`):');
      } else {
        lines.push('Not attributable: this backend queues its work and finishes it later, so the calls below are submission costs and the device work is waited for inside `read` (overlapping reads can add up to more than the step); the step was too slow to replay call by call.');
      }
      lines.push('');
    }
    const rows = s.breakdown!.filter((b) => b.fraction >= 0.005 || b.kernel === 'outside kernels').map((b) => [
      b.kernel,
      b.callsPerStep > 0 ? b.callsPerStep.toFixed(0) : '–',
      ms(b.msPerStep),
      pct(b.fraction),
    ]);
    lines.push(...table(['kernel', 'calls/step', 'time/step', 'share'], rows));
    lines.push('');
    if (s.families !== undefined && s.breakdownAttributable !== false) lines.push(...ceilingLines(s.families, s.train!.medianMs, s.threads ?? 1, s.ceiling, s.engine));
  }

  // ---- memory ----
  if (r.memory.length > 0) {
    lines.push(`### Peak memory of a training step as the cycles grow (fresh process per point; flat = within ${FLAT_TOLERANCE * 100}%)`);
    lines.push('');
    const rows = r.memory.flatMap((m) =>
      m.samples.map((s, i) => [
        i === 0 ? `${m.variant} (${m.config})` : '',
        `${s.hCycles}×${s.lCycles}`,
        s.peakRssMb.toFixed(1),
        s.stepsPeakRssMb === undefined ? '–' : s.stepsPeakRssMb.toFixed(1),
        (s.peakRssMb - s.setupRssMb).toFixed(1),
        s.backendMb === undefined ? '–' : s.backendMb.toFixed(1),
        i === 0 ? `${m.flat ? 'flat' : '**NOT FLAT**'} (+${pct(m.growth)})` : '',
      ]),
    );
    lines.push(...table(['backend', 'H×L cycles', 'peak RSS MiB', 'peak RSS during the steps MiB', 'peak − setup RSS MiB', 'backend live MiB after a step', 'verdict'], rows));
    lines.push('');
  }

  if (r.skipped.length > 0) {
    lines.push('Not measured:');
    lines.push('');
    for (const s of r.skipped) lines.push(`- ${s.what}: ${s.why}`);
    lines.push('');
  }
  return lines.join('\n');
};
