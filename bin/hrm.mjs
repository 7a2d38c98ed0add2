#!/usr/bin/env node
// The `hrm` command: loads the TypeScript sources through tsx and hands over to src/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
