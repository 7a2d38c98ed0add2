// `npm run build`: the library as ESM JavaScript with .d.ts files in dist/ (tsc, relative `.ts`
// imports rewritten to `.js`), plus the plain-JS worker files next to the modules that start them
// (their `.ts` imports rewritten the same way) and the config presets the CLI resolves by name.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

const copyWorkers = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) copyWorkers(p);
    else if (e.name.endsWith('.mjs')) {
      const out = path.join(dist, path.relative(root, p));
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, readFileSync(p, 'utf8').replace(/(['"])(\.{1,2}\/[^'"]+)\.ts\1/g, '$1$2.js$1'));
    }
  }
};
copyWorkers(path.join(root, 'src'));
cpSync(path.join(root, 'configs'), path.join(dist, 'configs'), { recursive: true });
console.log(`built ${path.relative(process.cwd(), dist) || 'dist'}`);
