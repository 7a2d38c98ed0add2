// The browser entry (src/browser.ts) reaches no `node:` module through any static import or
// dynamic import of a literal, while the Node entry does (so the walk sees them); the web page
// (web/, its workers included) uses src/ only through the browser entry.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';
import { importGraph } from './support/import-graph.ts';

const builtins = (entry: string): string[] => [...importGraph(entry).bare.keys()].filter((s) => s.startsWith('node:') || builtinModules.includes(s));

describe('entries', () => {
  it('the browser entry imports no Node module', () => {
    const g = importGraph('src/browser.ts');
    expect(g.files.some((f) => f.endsWith('simd/platform-browser.ts'))).toBe(true);
    expect(g.files.some((f) => f.endsWith('platform-node.ts'))).toBe(false);
    expect(builtins('src/browser.ts')).toEqual([]);
  });

  it('the web page and its engine worker reach no Node module, and import src/ only through the browser entry', () => {
    const g = importGraph('web/main.ts');
    expect(g.files.some((f) => f.endsWith('web/engine.worker.ts'))).toBe(true);
    expect(builtins('web/main.ts')).toEqual([]);
    const direct = g.files.filter((f) => f.includes('/web/')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/from '\.\.\/src\/([^']+)'/g)].map((m) => m[1]));
    expect([...new Set(direct)]).toEqual(['browser.ts']);
  });

  it('the walk finds the Node modules of the Node entry', () => {
    expect(builtins('src/index.ts')).toEqual(expect.arrayContaining(['node:fs', 'node:path']));
  });
});
