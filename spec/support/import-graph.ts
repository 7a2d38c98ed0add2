// The import graph of a module as written in the sources: every relative import (static, `export …
// from`, or a dynamic import of a string literal) followed through the files, and every bare
// specifier collected. Used to prove that the browser entry reaches no `node:` module.

import { readFileSync } from 'node:fs';
import path from 'node:path';

const IMPORT = /(?:^|[^.\w$])(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|[^.\w$(])import\s*['"]([^'"]+)['"]|(?:^|[^.\w$])import\s*\(\s*['"]([^'"]+)['"]\s*\)|new\s+URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url/gm;

/** Strips comments so commented-out imports do not count. */
const stripComments = (src: string): string => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

export interface ImportGraph {
  /** files reached (absolute paths) */
  readonly files: readonly string[];
  /** bare specifiers, each with a file that imports it */
  readonly bare: ReadonlyMap<string, string>;
}

/** Follows every relative import from `entry` (TypeScript or JavaScript sources). */
export const importGraph = (entry: string): ImportGraph => {
  const seen = new Set<string>();
  const bare = new Map<string, string>();
  const stack = [path.resolve(entry)];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = stripComments(readFileSync(file, 'utf8'));
    for (const m of src.matchAll(IMPORT)) {
      if (/^[^\w]?\s*(?:import|export)\s+type\s/.test(m[0])) continue; // erased at compile time
      const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
      if (spec.startsWith('.')) stack.push(path.resolve(path.dirname(file), spec));
      else if (!bare.has(spec)) bare.set(spec, file);
    }
  }
  return { files: [...seen].sort(), bare };
};
