// What machine a benchmark ran on: CPU model (from /proc/cpuinfo where it exists), cores, memory,
// Node and V8 versions. Read once per run and stored with every result.

import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  readonly cpuModel: string;
  /** logical CPUs the process may use */
  readonly cores: number;
  readonly cpuFlags: readonly string[];
  readonly memoryGiB: number;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly arch: string;
  /** 1-minute load average when the run started: other work on the machine skews timings */
  readonly loadAverage: number;
}

/** CPU model name and SIMD-relevant flags from /proc/cpuinfo (empty strings where unreadable). */
const cpuInfo = (): { model: string; flags: string[] } => {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? '';
    const flags = (/^flags\s*:\s*(.+)$/m.exec(text)?.[1] ?? '').split(/\s+/);
    const wanted = ['avx2', 'fma', 'avx512f', 'avx512_bf16', 'avx512vl'];
    return { model, flags: wanted.filter((f) => flags.includes(f)) };
  } catch {
    return { model: '', flags: [] };
  }
};

export const machineInfo = (): MachineInfo => {
  const { model, flags } = cpuInfo();
  return {
    cpuModel: model || os.cpus()[0]?.model || 'unknown',
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    cpuFlags: flags,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    loadAverage: Math.round(os.loadavg()[0] * 100) / 100,
  };
};

/** One line for tables: "AMD EPYC, 2 cores (avx2 fma avx512f), 23.4 GiB, Node v20.20.2". */
export const machineLine = (m: MachineInfo): string =>
  `${m.cpuModel}, ${m.cores} cores${m.cpuFlags.length ? ` (${m.cpuFlags.join(' ')})` : ''}, ${m.memoryGiB} GiB, Node ${m.node}, ` +
  `load average ${m.loadAverage} at the start`;
