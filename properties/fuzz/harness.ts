// Runs one fuzz target: fast-check draws a seed file set, a file in it and a mutation (byte edits,
// and JSON edits for JSON files or JSON nested in a binary header); the mutated files are written
// to a scratch folder and loaded. Each input must either load into a result the target's oracle
// accepts, or be rejected with an InputError whose message names the scratch folder's file; any
// other exception, an accepted invalid input, more memory than the target's bound, or more than
// TIME_LIMIT_MS fails the property (fast-check then shrinks and prints a replayable seed).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { InputError } from '../../src/io/codec.ts';
import { applyBytes, applyJson, byteEdit, jsonEdit, type ByteEdit, type JsonEdit } from './mutate.ts';
import type { FileSet, FuzzTarget } from './targets.ts';

/** A load slower than this is a hang (a detector with a wide margin, not a speed target). */
export const TIME_LIMIT_MS = 10_000;
/** Growth of the JavaScript engine itself during one load (compiled code, inline caches, strings). */
export const ENGINE_SLACK_BYTES = 8 << 20;

export interface FuzzStats {
  readonly target: string;
  readonly runs: number;
  /** inputs that loaded and passed the oracle */
  readonly loaded: number;
  /** inputs rejected with an InputError naming the file */
  readonly rejected: number;
  /** other exceptions and accepted invalid inputs (0 when the property passed) */
  readonly foreign: number;
  readonly acceptedInvalid: number;
  readonly maxMs: number;
  /** largest growth of heap + array buffers over one load, bytes, and its bound at that input */
  readonly maxExtraBytes: number;
  readonly memoryBound: string;
  readonly seconds: number;
}

interface Plan {
  readonly seed: number;
  readonly file: number;
  readonly bytes: readonly ByteEdit[];
  readonly json: readonly JsonEdit[];
  readonly pick: number;
  readonly mode: 'bytes' | 'json' | 'both';
}

const plan: fc.Arbitrary<Plan> = fc.record({
  seed: fc.nat(),
  file: fc.nat(),
  bytes: fc.array(byteEdit, { minLength: 1, maxLength: 4 }),
  json: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }),
  pick: fc.nat(),
  mode: fc.constantFrom('bytes' as const, 'json' as const, 'both' as const),
});

/** The mutated file set of a plan (only one file changes; the others are the seed's own arrays). */
export const mutate = (target: FuzzTarget, seeds: readonly FileSet[], p: Plan): Record<string, Uint8Array> => {
  const files = { ...seeds[p.seed % seeds.length] };
  const names = Object.keys(files).sort();
  const name = names[p.file % names.length];
  let b = files[name];
  if (p.mode !== 'bytes') {
    if (name.endsWith('.json')) b = new TextEncoder().encode(applyJson(new TextDecoder().decode(b), p.json));
    else if (target.editNestedJson !== undefined) b = target.editNestedJson(b, p.json, p.pick) ?? b;
  }
  if (p.mode !== 'json' || b === files[name]) b = applyBytes(b, p.bytes);
  files[name] = b;
  return files;
};

const heap = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Runs `runs` mutated inputs through `target`; throws (with fast-check's report) on a failure. */
export const fuzzTarget = async (target: FuzzTarget, runs: number, seed?: number): Promise<FuzzStats> => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hrm-fuzz-'));
  const seeds = target.seeds();
  let loaded = 0;
  let rejected = 0;
  let maxMs = 0;
  let maxExtra = 0;
  const t0 = performance.now();
  const onDisk = new Map<string, Uint8Array>();
  try {
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        // one folder per seed; only files that differ from what is on disk are written
        const dir = path.join(scratch, `seed${p.seed % seeds.length}`);
        const files = mutate(target, seeds, p);
        let total = 0;
        for (const [name, bytes] of Object.entries(files)) {
          const file = path.join(dir, name);
          if (onDisk.get(file) !== bytes) {
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, bytes);
            onDisk.set(file, bytes);
          }
          total += bytes.length;
        }
        fs.rmSync(path.join(dir, 'out'), { recursive: true, force: true });
        const m0 = heap();
        const s = performance.now();
        let result: unknown;
        let error: unknown;
        try {
          result = await target.load(dir);
        } catch (e) {
          error = e;
        }
        const ms = performance.now() - s;
        const extra = heap() - m0;
        maxMs = Math.max(maxMs, ms);
        maxExtra = Math.max(maxExtra, extra);
        if (ms > TIME_LIMIT_MS) throw new Error(`${target.name}: one load took ${ms.toFixed(0)} ms (limit ${TIME_LIMIT_MS})`);
        const bound = target.maxExtraBytes(total) + ENGINE_SLACK_BYTES;
        if (extra > bound) throw new Error(`${target.name}: one load grew memory by ${extra} bytes, bound ${bound} for ${total} input bytes (${target.memoryBound}, plus engine slack)`);
        if (error !== undefined) {
          if (!(error instanceof InputError)) throw new Error(`${target.name}: foreign exception ${(error as Error)?.name}: ${(error as Error)?.message?.slice(0, 300)}`, { cause: error });
          if (!error.message.includes(dir)) throw new Error(`${target.name}: the error does not name the file: ${error.message.slice(0, 300)}`);
          rejected++;
          return;
        }
        const problems = target.invalid(result, dir);
        if (problems.length > 0) throw new Error(`${target.name}: invalid input accepted: ${problems.join('; ')}`);
        loaded++;
      }),
      { numRuns: runs, ...(seed !== undefined ? { seed } : {}), endOnFailure: false },
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return {
    target: target.name,
    runs,
    loaded,
    rejected,
    foreign: 0,
    acceptedInvalid: 0,
    maxMs,
    maxExtraBytes: maxExtra,
    memoryBound: target.memoryBound,
    seconds: (performance.now() - t0) / 1000,
  };
};
