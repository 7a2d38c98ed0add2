// The checkpoint store of a training run: a directory of `<name>.safetensors` files.
// Saving is atomic and durable: the bytes go to `<name>.tmp-<pid>`, are fsynced, renamed over
// the final name, and the directory is fsynced; only then are checkpoints beyond the newest
// `keep` deleted. Listing trusts nothing: temp files are never checkpoints, and every candidate's
// safetensors header is decoded and checked against the file size, so a truncated or corrupt
// file is reported and skipped instead of being loaded. The store touches only files of its own
// naming, `step_<N>.safetensors` (a user's `best.safetensors` beside them is never listed, loaded
// or pruned), and orders them by the step recorded inside (metadata `optimizer_step`, or `step`);
// a file whose recorded step differs from its name (a renamed copy) is reported and skipped.
// Not here: what a checkpoint contains (src/train/checkpoint.ts encodes and decodes it).

import { closeSync, fsyncSync, openSync, readdirSync, readSync, renameSync, fstatSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { checkDataLength, decodeSafetensorsHeader, parseSafetensorsHeader, readHeaderLength } from '../io/safetensors.ts';
import { ensureDir, fileError } from '../io/files.ts';

export const CHECKPOINT_EXTENSION = '.safetensors';
/** How many checkpoints a run keeps unless told otherwise. */
export const DEFAULT_KEEP = 3;

const TEMP_PATTERN = /^step_\d{1,15}\.safetensors\.tmp-(\d+)$/;
/** The store's own file names: the step, optionally zero-padded. */
const NAME_PATTERN = /^step_(\d{1,15})\.safetensors$/;

/** The file name of the checkpoint of `step` (zero-padded to 7 digits so listings sort). */
export const checkpointFileName = (step: number): string => `step_${String(step).padStart(7, '0')}${CHECKPOINT_EXTENSION}`;

/** The step a checkpoint's metadata records (`optimizer_step`, else `step`), or undefined. */
const recordedStep = (metadata: Readonly<Record<string, string>>): number | undefined => {
  const v = metadata.optimizer_step ?? metadata.step;
  return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
};

export interface CheckpointInfo {
  /** file name within the directory */
  readonly name: string;
  /** the step recorded inside (equal to the one in the name) */
  readonly step: number;
  readonly path: string;
  readonly bytes: number;
  readonly tensors: number;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface SkippedFile {
  readonly name: string;
  readonly reason: string;
}

export interface CheckpointListing {
  /** complete, valid checkpoints, oldest first (by the step recorded inside) */
  readonly checkpoints: readonly CheckpointInfo[];
  /** temp files and invalid checkpoint files, with why they were not taken */
  readonly skipped: readonly SkippedFile[];
}

export interface SaveOptions {
  /** how many checkpoints to keep, counting the new one (≥ 1; default DEFAULT_KEEP) */
  readonly keep?: number;
}

/** Natural order: compares digit runs numerically and everything else by code unit. */
export const compareNatural = (a: string, b: string): number => {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length; // same value, fewer leading zeros first
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
};

/** Reads exactly `len` bytes at `position` of an open file (fewer only at end of file). */
const readAt = (fd: number, position: number, len: number): Uint8Array => {
  const buf = new Uint8Array(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
};

/**
 * Validates a checkpoint file without reading its data: the header must decode and the file size
 * must equal 8 + header + data section exactly. Throws the reader's error (naming the file).
 */
const validateFile = (file: string): { tensors: number; metadata: Record<string, string>; bytes: number } => {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = readHeaderLength(readAt(fd, 0, 8), size, file);
    const headerBytes = readAt(fd, 8, n);
    if (headerBytes.length !== n) throw new Error(`${file}: truncated safetensors file: header needs ${8 + n} bytes, could read ${8 + headerBytes.length}`);
    const header = decodeSafetensorsHeader(headerBytes, file);
    checkDataLength(header, 8 + n, size, file);
    return { tensors: header.entries.length, metadata: header.metadata, bytes: size };
  } finally {
    closeSync(fd);
  }
};

/** Lists the valid checkpoints of `dir` (oldest first) and what was skipped; a missing dir is empty. */
export const listCheckpoints = (dir: string): CheckpointListing => {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoints: [], skipped: [] };
    throw fileError(e, 'list the checkpoints in', dir);
  }
  const checkpoints: CheckpointInfo[] = [];
  const skipped: SkippedFile[] = [];
  for (const name of names.sort(compareNatural)) {
    if (TEMP_PATTERN.test(name)) {
      skipped.push({ name, reason: 'temporary file of an interrupted or ongoing save' });
      continue;
    }
    const m = NAME_PATTERN.exec(name);
    if (m === null) continue; // not ours: other run files, a user's own safetensors files
    const file = path.join(dir, name);
    try {
      const v = validateFile(file);
      const step = recordedStep(v.metadata) ?? Number(m[1]);
      if (step !== Number(m[1])) throw new Error(`${file}: its name says step ${Number(m[1])} but it records step ${step} (a renamed copy?)`);
      checkpoints.push({ name, step, path: file, bytes: v.bytes, tensors: v.tensors, metadata: v.metadata });
    } catch (e) {
      skipped.push({ name, reason: (e as Error).message });
    }
  }
  checkpoints.sort((a, b) => a.step - b.step || compareNatural(a.name, b.name));
  return { checkpoints, skipped };
};

const warnSkipped = (dir: string, s: SkippedFile): void => {
  process.stderr.write(`warning: ${path.join(dir, s.name)} is not a usable checkpoint, skipped: ${s.reason}\n`);
};

/**
 * The valid checkpoints of `dir`, newest first (to try in turn when the newest fails to load).
 * Invalid checkpoint files are passed to `report` (default: a warning on stderr); temp files are not.
 */
export const checkpointsNewestFirst = (dir: string, report: (s: SkippedFile) => void = (s) => warnSkipped(dir, s)): string[] => {
  const { checkpoints, skipped } = listCheckpoints(dir);
  for (const s of skipped) if (!TEMP_PATTERN.test(s.name)) report(s);
  return checkpoints.map((c) => c.path).reverse();
};

/** The path of the newest valid checkpoint in `dir`, or undefined (see checkpointsNewestFirst). */
export const latestCheckpoint = (dir: string, report?: (s: SkippedFile) => void): string | undefined => checkpointsNewestFirst(dir, report)[0];

/** fsyncs a directory so a rename or unlink in it is durable (not possible on Windows). */
const syncDir = (dir: string): void => {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!(process.platform === 'win32' && (code === 'EISDIR' || code === 'EPERM'))) throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
};

/** Whether process `pid` is alive (a temp file of a live process belongs to an ongoing save). */
const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Saves `bytes` (a safetensors file) as `dir/name` atomically and durably, then deletes the
 * oldest valid checkpoints beyond `keep` (never the new one) and temp files left by processes
 * that no longer run. Returns the new file's path. Refuses bytes that are not a valid
 * safetensors file, so the store never holds something listing would skip.
 */
export const saveCheckpoint = (dir: string, name: string, bytes: Uint8Array, options: SaveOptions = {}): string => {
  const keep = options.keep ?? DEFAULT_KEEP;
  if (!Number.isSafeInteger(keep) || keep < 1) throw new Error(`saveCheckpoint: keep must be an integer ≥ 1, got ${keep}`);
  if (!NAME_PATTERN.test(name)) {
    throw new Error(`saveCheckpoint: invalid checkpoint name '${name}' (expected step_<N>${CHECKPOINT_EXTENSION})`);
  }
  const final = path.join(dir, name);
  parseSafetensorsHeader(bytes, `${final} (about to be saved)`);
  ensureDir(dir);
  const temp = `${final}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w');
  try {
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, final);
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      // the temp file may not exist; the original error is what matters
    }
    throw fileError(e, 'write the checkpoint', final);
  }
  syncDir(dir);
  // The new checkpoint is durable: now prune.
  const { checkpoints, skipped } = listCheckpoints(dir);
  const older = checkpoints.filter((c) => c.name !== name);
  const excess = older.length - (keep - 1);
  let removed = false;
  for (const c of older.slice(0, Math.max(0, excess))) {
    unlinkSync(c.path);
    removed = true;
  }
  for (const s of skipped) {
    const m = TEMP_PATTERN.exec(s.name);
    if (m !== null && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) {
      unlinkSync(path.join(dir, s.name));
      removed = true;
    }
  }
  if (removed) syncDir(dir);
  return final;
};
