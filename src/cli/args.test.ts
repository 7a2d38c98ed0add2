import { describe, expect, it } from 'vitest';
import { ArgsError, parseFlags, type FlagSpec } from './args.ts';

const specs: Record<string, FlagSpec> = {
  data: { kind: 'string', help: 'dataset' },
  threads: { kind: 'int', help: 'threads', min: 1 },
  resume: { kind: 'boolean', help: 'resume' },
  scaling: { kind: 'list', help: 'steps' },
  backend: { kind: 'string', help: 'backend', choices: ['auto', 'reference'] },
};

describe('flag parsing', () => {
  it('parses values, booleans, lists and overrides', () => {
    const p = parseFlags('train', ['--data', 'd', '--threads=2', '--resume', '--scaling', '1,2,4', '--lr=3e-4', 'arch.hidden_size=64'], specs, true);
    expect(p.flags).toEqual({ data: 'd', threads: 2, resume: true, scaling: [1, 2, 4] });
    expect(p.overrides).toEqual(['lr=3e-4', 'arch.hidden_size=64']);
  });
  it('names the offending flag', () => {
    expect(() => parseFlags('eval', ['--bogus', '1'], specs)).toThrow(/unknown option '--bogus'/);
    expect(() => parseFlags('eval', ['--threads', 'x'], specs)).toThrow(/'--threads' expects an integer/);
    expect(() => parseFlags('eval', ['--threads', '0'], specs)).toThrow(/must be ≥ 1/);
    expect(() => parseFlags('eval', ['--data'], specs)).toThrow(/'--data' needs a value/);
    expect(() => parseFlags('eval', ['--backend', 'tpu'], specs)).toThrow(/must be one of auto, reference/);
    expect(() => parseFlags('eval', ['--scaling', '1,x'], specs)).toThrow(ArgsError);
    expect(() => parseFlags('eval', ['--lr=1'], specs, false)).toThrow(/unknown option '--lr'/);
  });
  it('parses numbers, name lists, positionals and -h', () => {
    const more: Record<string, FlagSpec> = {
      ...specs,
      budget: { kind: 'number', help: 'minutes', min: 0.01, max: 100 },
      modes: { kind: 'strings', help: 'modes', choices: ['cpu', 'webasm'] },
      help: { kind: 'boolean', help: 'help' },
    };
    const p = parseFlags('bench', ['case', '--budget=2.5', '--modes', 'cpu,webasm', '-h'], more, { positionals: 1 });
    expect(p.flags).toEqual({ budget: 2.5, modes: ['cpu', 'webasm'], help: true });
    expect(p.positionals).toEqual(['case']);
    expect(() => parseFlags('bench', ['a', 'b'], more, { positionals: 1 })).toThrow(/unexpected argument 'b'/);
    expect(() => parseFlags('bench', ['--budget', '1e9'], more)).toThrow(/must be ≤ 100/);
    expect(() => parseFlags('bench', ['--budget', 'soon'], more)).toThrow(/expects a finite number/);
    expect(() => parseFlags('bench', ['--modes', 'cpu,opengl'], more)).toThrow(/must be one of cpu, webasm, got 'opengl'/);
    expect(() => parseFlags('bench', ['--resume=yes'], more)).toThrow(/takes no value/);
    expect(() => parseFlags('bench', ['--resume', '--resume'], more)).toThrow(/given twice/);
    expect(() => parseFlags('bench', ['-x'], more)).toThrow(/unexpected argument '-x'/);
  });
});
