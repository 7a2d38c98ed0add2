// `npm run fuzz -- --runs N [--target NAME] [--seed S]`: the loader fuzz suite at any size, with a
// table of outcomes per loader (loaded, rejected with an InputError naming the file, slowest load,
// largest memory growth against the stated bound). Exits 1 on the first failing property, after
// printing fast-check's counterexample and seed (replay with --seed and --target).

import { parseArgs } from 'node:util';
import { fuzzTarget, type FuzzStats } from './harness.ts';
import { TARGETS } from './targets.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20000' }, target: { type: 'string' }, seed: { type: 'string' } },
  strict: true,
});
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1) {
  console.error(`fuzz: --runs expects a positive integer, got '${values.runs}'`);
  process.exit(2);
}
const targets = values.target === undefined ? TARGETS : TARGETS.filter((t) => t.name === values.target);
if (targets.length === 0) {
  console.error(`fuzz: no target '${values.target}' (targets: ${TARGETS.map((t) => t.name).join(', ')})`);
  process.exit(2);
}
const seed = values.seed === undefined ? undefined : Number(values.seed);

const rows: FuzzStats[] = [];
let failed = false;
for (const t of targets) {
  process.stderr.write(`${t.name}: ${runs} inputs … `);
  try {
    const s = await fuzzTarget(t, runs, seed);
    rows.push(s);
    process.stderr.write(`ok (${s.seconds.toFixed(1)} s)\n`);
  } catch (e) {
    failed = true;
    const cause = (e as Error).cause;
    process.stderr.write(`FAILED\n${(e as Error).message}\n${cause instanceof Error ? `cause: ${cause.message}\n` : ''}`);
  }
}
const MiB = 2 ** 20;
console.log(`| loader | inputs | loaded | rejected (InputError naming the file) | foreign exceptions | invalid accepted | slowest load | largest memory growth | memory bound |`);
console.log(`|---|---|---|---|---|---|---|---|---|`);
for (const s of rows) {
  console.log(
    `| ${s.target} | ${s.runs} | ${s.loaded} | ${s.rejected} | ${s.foreign} | ${s.acceptedInvalid} | ${s.maxMs.toFixed(0)} ms | ${(s.maxExtraBytes / MiB).toFixed(1)} MiB | ${s.memoryBound} |`,
  );
}
process.exitCode = failed ? 1 : 0;
