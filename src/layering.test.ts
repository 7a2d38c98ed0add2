// The layering of src/: which folder may import which (one home per concern, nothing importing
// upward). Reads every source file's import specifiers with TypeScript's own pre-processor (static,
// dynamic and type imports alike) and fails naming the file and the forbidden edge.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const walk = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : /\.(ts|mts|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
  );

interface Edge {
  readonly from: string; // repository-relative file
  readonly to: string; // repository-relative file for a relative specifier, else the bare specifier
}

const edgesOf = (file: string): Edge[] =>
  ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true).importedFiles.map(({ fileName }) => ({
    from: file,
    to: fileName.startsWith('.') ? normalize(join(dirname(file), fileName)) : fileName,
  }));

const SOURCES = walk('src');
const EDGES = SOURCES.flatMap(edgesOf);
const isTest = (f: string): boolean => /\.test\.ts$/.test(f);
const inside = (folder: string) => (f: string): boolean => f.startsWith(`${folder}/`);
const FILE_IO = new Set(['fs', 'fs/promises', 'node:fs', 'node:fs/promises']);

/** Edges from files matching `from` (tests included unless `sourcesOnly`) whose target matches `bad`. */
const offending = (from: (f: string) => boolean, bad: (to: string) => boolean, sourcesOnly = false): string[] =>
  EDGES.filter((e) => from(e.from) && !(sourcesOnly && isTest(e.from)) && bad(e.to)).map((e) => `${e.from} -> ${e.to}`);

describe('layering of src/', () => {
  it('reads the tree (the rules below are not vacuous)', () => {
    expect(SOURCES.length).toBeGreaterThan(100);
    expect(EDGES.some((e) => e.from === 'src/model/hrm.ts' && e.to === 'src/core/backend.ts')).toBe(true);
  });

  it('nothing in src imports bench/ (the entry scripts live there; the library in src/bench)', () => {
    expect(offending(() => true, (to) => relative(ROOT, join(ROOT, to)).startsWith('bench/'))).toEqual([]);
  });

  it('the model never imports a backend: no src/model file imports src/reference, src/accelerated or src/backends', () => {
    expect(offending(inside('src/model'), (to) => /^src\/(reference|accelerated|backends)\//.test(to))).toEqual([]);
  });

  it('src/core imports only src/core', () => {
    expect(offending(inside('src/core'), (to) => to.startsWith('src/') && !inside('src/core')(to))).toEqual([]);
  });

  it('the reference kernels import only src/core', () => {
    expect(offending(inside('src/reference'), (to) => to.startsWith('src/') && !/^src\/(core|reference)\//.test(to))).toEqual([]);
  });

  it('an accelerated engine imports only src/core and its own folder', () => {
    const own = (from: string, to: string): boolean => to.split('/').slice(0, 3).join('/') === from.split('/').slice(0, 3).join('/');
    const bad = EDGES.filter(
      (e) => inside('src/accelerated')(e.from) && !isTest(e.from) && e.to.startsWith('src/') && !inside('src/core')(e.to) && !own(e.from, e.to),
    ).map((e) => `${e.from} -> ${e.to}`);
    expect(bad).toEqual([]);
  });

  it('kernels and the model do no file I/O (no fs in src/core, src/reference, src/accelerated, src/model)', () => {
    expect(offending((f) => /^src\/(core|reference|accelerated|model)\//.test(f), (to) => FILE_IO.has(to), true)).toEqual([]);
  });

  it('datasets do not depend on the model, training or the command line', () => {
    expect(offending(inside('src/data'), (to) => /^src\/(model|train|cli|bench|verify|backends|reference|accelerated)\//.test(to), true)).toEqual([]);
  });

  it('the analysis runs in a browser too: src/analyze imports no Node module and no backend', () => {
    expect(offending(inside('src/analyze'), (to) => to.startsWith('node:') || FILE_IO.has(to) || /^src\/(reference|accelerated|backends|cli)\//.test(to), true)).toEqual([]);
  });

  it('only src/cli imports src/cli (the command line is the top layer)', () => {
    expect(offending((f) => !inside('src/cli')(f), (to) => inside('src/cli')(to), true)).toEqual([]);
  });
});

describe('one of each', () => {
  const text = (f: string): string => readFileSync(join(ROOT, f), 'utf8');
  const sources = SOURCES.filter((f) => !isTest(f));
  it('gpu.js modes are listed only by the gpu engine, backend flags only by the registry', () => {
    expect(sources.filter((f) => !inside('src/accelerated/gpu')(f) && /'headlessgl'/.test(text(f)))).toEqual([]);
    expect(sources.filter((f) => f !== 'src/backends/registry.ts' && /'gpu-mode'\s*:/.test(text(f)))).toEqual([]);
  });
  it('argv is parsed by src/cli/args.ts alone (on util.parseArgs)', () => {
    expect(sources.filter((f) => f !== 'src/cli/args.ts' && /\bparseArgs\b|process\.argv\.indexOf/.test(text(f)))).toEqual([]);
  });
  it('one ignore label, one decodeOrThrow', () => {
    expect(sources.filter((f) => f !== 'src/core/batch.ts' && /(^|[^\w.])-100\b/m.test(text(f).replace(/\*\*\s*-100\b/g, '')))).toEqual([]);
    expect(sources.filter((f) => f !== 'src/io/codec.ts' && /const decodeOrThrow\b/.test(text(f)))).toEqual([]);
  });
});
