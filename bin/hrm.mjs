#!/usr/bin/env node
// The `hrm` command. An installed package runs its compiled JavaScript (dist/); a source checkout
// (src/ present, with tsx among its dev dependencies) runs the TypeScript sources directly.
import { existsSync } from 'node:fs';

const fromSource = existsSync(new URL('../src/cli/main.ts', import.meta.url));
let main;
if (fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
} else {
  ({ main } = await import('../dist/src/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
