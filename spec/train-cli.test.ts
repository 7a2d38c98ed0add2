// `hrm train`, `hrm eval` and `hrm solve` refuse bad input before any compute, naming the flag,
// config field or dataset file; Ctrl-C during training saves a checkpoint that --resume uses.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { capture } from './support/capture.ts';
import { generateSudokuDataset } from '../src/data/sudoku/build.ts';
import * as trainCmd from '../src/cli/commands/train.ts';
import * as evalCmd from '../src/cli/commands/eval.ts';
import * as solveCmd from '../src/cli/commands/solve.ts';
import { readRecords } from '../src/train/metrics-log.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'hrm-train-cli-'));
const data = path.join(root, 'd4');

beforeAll(async () => {
  await generateSudokuDataset({ out: data, size: 4, trainSize: 24, testSize: 4, minRating: 0, numAug: 0, seed: 2, threads: 1 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('hrm train: validation before compute', () => {
  it('names an unknown flag', async () => {
    const r = await capture(trainCmd, ['--config', 'test-tiny', '--data', data, '--bogus', '1']);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/unknown option '--bogus'/);
  });
  it('names a missing required flag', async () => {
    expect((await capture(trainCmd, ['--data', data])).text).toMatch(/--config is required/);
    expect((await capture(trainCmd, ['--config', 'test-tiny'])).text).toMatch(/--data is required/);
  });
  it('names an unknown preset and lists the presets', async () => {
    const r = await capture(trainCmd, ['--config', 'no-such-preset', '--data', data]);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/'no-such-preset' is neither a file nor a preset \(presets: .*test-tiny/);
  });
  it('names a bad override key and a bad override value', async () => {
    const a = await capture(trainCmd, ['--config', 'test-tiny', '--data', data, '--arch.hiden_size=32']);
    expect(a.code).toBe(2);
    expect(a.text).toMatch(/hiden_size/);
    const b = await capture(trainCmd, ['--config', 'test-tiny', '--data', data, '--lr=fast']);
    expect(b.code).toBe(2);
    expect(b.text).toMatch(/lr/);
  });
  it('refuses to override what the dataset decides', async () => {
    const r = await capture(trainCmd, ['--config', 'test-tiny', '--data', data, '--arch.vocab_size=11']);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/vocab_size comes from the dataset \(6\)/);
  });
  it('names a config file field of the wrong type', async () => {
    const file = path.join(root, 'bad.json');
    writeFileSync(file, JSON.stringify({ arch: { H_cycles: 'two' }, train: {} }));
    const r = await capture(trainCmd, ['--config', file, '--data', data]);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/bad\.json.*H_cycles/);
  });
  it('names a missing or broken dataset', async () => {
    expect((await capture(trainCmd, ['--config', 'test-tiny', '--data', path.join(root, 'nope')])).text).toMatch(/does not exist/);
    const broken = path.join(root, 'broken');
    mkdirSync(path.join(broken, 'train'), { recursive: true });
    writeFileSync(path.join(broken, 'train', 'dataset.json'), '{"pad_id": 0}');
    const r = await capture(trainCmd, ['--config', 'test-tiny', '--data', broken]);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/broken\/train\/dataset\.json/);
  });
  it('refuses a batch larger than the training set', async () => {
    const r = await capture(trainCmd, ['--config', 'test-tiny', '--data', data, '--global_batch_size=64']);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/global_batch_size 64 exceeds the 24 training examples/);
  });
  it('--resume needs a run directory', async () => {
    expect((await capture(trainCmd, ['--resume'])).text).toMatch(/--resume needs --out/);
    expect((await capture(trainCmd, ['--resume', '--out', root])).text).toMatch(/not a run directory/);
  });
});

describe('hrm eval / hrm solve: validation', () => {
  it('eval names missing checkpoints and conflicting flags', async () => {
    expect((await capture(evalCmd, [])).text).toMatch(/--checkpoint is required/);
    expect((await capture(evalCmd, ['--checkpoint', path.join(root, 'none')])).text).toMatch(/does not exist/);
    expect((await capture(evalCmd, ['--checkpoint', root, '--scaling', '1,x'])).text).toMatch(/'--scaling' expects positive integers/);
    expect((await capture(evalCmd, ['--checkpoint', root, '--scaling', '1,2', '--halt-max-steps', '2'])).text).toMatch(/either --halt-max-steps or --scaling/);
  });
  it('solve names a malformed puzzle', async () => {
    expect((await capture(solveCmd, ['--checkpoint', root, '--puzzle', '12'])).text).toMatch(/expected 16, 36 or 81 characters/);
    expect((await capture(solveCmd, ['--checkpoint', root, '--puzzle', '1234x...........'])).text).toMatch(/invalid character 'x' at position 5/);
    expect((await capture(solveCmd, ['--checkpoint', root])).text).toMatch(/exactly one of --puzzle, --maze, --arc-task/);
  });
});

describe('hrm train: Ctrl-C', () => {
  it('saves a checkpoint, exits 130, and --resume continues from it', async () => {
    const run = path.join(root, 'run-int');
    const bin = path.resolve('bin/hrm.mjs');
    const args = ['train', '--config', 'test-tiny', '--data', data, '--backend', 'reference', '--out', run, '--epochs=40', '--eval_interval=20', '--quiet'];
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      const poll = setInterval(() => {
        if (stderr.includes('backend:')) {
          clearInterval(poll);
          setTimeout(() => child.kill('SIGINT'), 1500);
        }
      }, 50);
      child.on('exit', (c) => {
        clearInterval(poll);
        resolve(c);
      });
    });
    expect(stderr).toMatch(/Ctrl-C: finishing this step and saving a checkpoint/);
    expect(code).toBe(130);
    const ckpts = readdirSync(path.join(run, 'checkpoints')).filter((f) => f.endsWith('.safetensors'));
    expect(ckpts.length).toBe(1);
    expect(stderr).toMatch(/continue with: hrm train --resume --out/);
    expect(existsSync(path.join(run, 'config.json'))).toBe(true);

    // resume from it for two more steps (--stop-after counts steps of the whole run)
    const saved = Number(/step_(\d+)/.exec(ckpts[0])?.[1]);
    expect(saved).toBeGreaterThanOrEqual(1);
    const r = await capture(trainCmd, ['--resume', '--out', run, '--backend', 'reference', '--quiet', '--stop-after', String(saved + 2)]);
    expect(r.code).toBe(0);
    expect(readdirSync(path.join(run, 'checkpoints'))).toContain(`step_${String(saved + 2).padStart(7, '0')}.safetensors`);
    const steps = readRecords(path.join(run, 'metrics.jsonl')).filter((x) => x.kind === 'train').map((x) => x.step);
    expect(steps).toEqual(Array.from({ length: saved + 2 }, (_, i) => i + 1));

    // a damaged config.json is refused on resume, naming the file and the field, before any compute
    const cfgFile = path.join(run, 'config.json');
    const good = JSON.parse(readFileSync(cfgFile, 'utf8')) as { config: { arch: object } };
    const resume = ['--resume', '--out', run, '--backend', 'reference', '--quiet'];
    writeFileSync(cfgFile, JSON.stringify({ ...good, config: { ...good.config, arch: { ...good.config.arch, hidden_size: 'wide' } } }));
    const badField = await capture(trainCmd, resume);
    expect(badField.code).toBe(2);
    expect(badField.text).toMatch(/config\.json: field 'config': field 'arch\.hidden_size': expected an integer/);
    writeFileSync(cfgFile, JSON.stringify({ ...good, extra: 1 }));
    expect((await capture(trainCmd, resume)).text).toMatch(/config\.json: field 'extra': unknown key 'extra'/);
    writeFileSync(cfgFile, '{"config": ');
    expect((await capture(trainCmd, resume)).text).toMatch(/config\.json: not valid JSON/);
  });
});
