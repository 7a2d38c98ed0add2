// Command-line flags of every `hrm` command: Node's `util.parseArgs` splits argv into tokens, and
// each token is checked against the command's declared flags (an unknown one is named in the
// error, values are converted and bounded), plus positional arguments where a command takes them
// and `--key=value` config overrides for train. Pure: returns values or throws an ArgsError; the
// CLI turns that into exit code 2.

import { parseArgs } from 'node:util';

export class ArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgsError';
  }
}

export interface FlagSpec {
  /**
   * string: one value (one of `choices` when given); boolean: present or not; int / number: an
   * integer / a finite number in [min, max]; list: positive integers "1,2,4"; strings: names
   * "a,b" (each one of `choices` when given).
   */
  readonly kind: 'string' | 'boolean' | 'int' | 'number' | 'list' | 'strings';
  readonly help: string;
  /** smallest allowed value of an int / number flag */
  readonly min?: number;
  /** largest allowed value of an int / number flag */
  readonly max?: number;
  /** allowed values of a string / strings flag */
  readonly choices?: readonly string[];
}

export type FlagValue = string | boolean | number | readonly number[] | readonly string[];
export type FlagValues = Record<string, FlagValue | undefined>;

export interface ParseOptions {
  /** collect `--x=v` / `x.y=v` where x is not a flag as config overrides (train) */
  readonly overrides?: boolean;
  /** how many positional arguments the command takes (default 0) */
  readonly positionals?: number;
}

export interface Parsed {
  readonly flags: FlagValues;
  /** `--a.b=v` or `--key=v` for keys that are not flags (config overrides) */
  readonly overrides: string[];
  readonly positionals: string[];
}

const valueOf = (command: string, name: string, spec: FlagSpec, value: string): FlagValue => {
  const bad = (what: string): ArgsError => new ArgsError(`${command}: option '--${name}' ${what}, got '${value}'`);
  const bounded = (n: number): number => {
    if (spec.min !== undefined && n < spec.min) throw new ArgsError(`${command}: option '--${name}' must be ≥ ${spec.min}, got ${n}`);
    if (spec.max !== undefined && n > spec.max) throw new ArgsError(`${command}: option '--${name}' must be ≤ ${spec.max}, got ${n}`);
    return n;
  };
  const oneOf = (v: string): string => {
    if (spec.choices && !spec.choices.includes(v)) throw new ArgsError(`${command}: option '--${name}' must be one of ${spec.choices.join(', ')}, got '${v}'`);
    return v;
  };
  switch (spec.kind) {
    case 'int': {
      const n = Number(value);
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) throw bad('expects an integer');
      return bounded(n);
    }
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw bad('expects a finite number');
      return bounded(n);
    }
    case 'list': {
      const parts = value.split(',').map((s) => s.trim());
      if (parts.some((s) => !/^\d+$/.test(s)) || parts.some((s) => Number(s) < 1)) throw bad('expects positive integers separated by commas');
      return parts.map(Number);
    }
    case 'strings': {
      const parts = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (parts.length === 0) throw bad('expects names separated by commas');
      return parts.map(oneOf);
    }
    default:
      return oneOf(value);
  }
};

/**
 * Parses argv against `specs` (flag names without `--`). `--flag value` and `--flag=value` both
 * work; boolean flags take no value; a flag given twice is an error; `-h` is `--help` where declared. `options` (or `true`, the
 * same as `{ overrides: true }`) says what else the command accepts besides flags.
 */
export const parseFlags = (
  command: string,
  argv: readonly string[],
  specs: Readonly<Record<string, FlagSpec>>,
  options: boolean | ParseOptions = {},
): Parsed => {
  const { overrides: allowOverrides = false, positionals: maxPositionals = 0 } = typeof options === 'boolean' ? { overrides: options } : options;
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(Object.entries(specs).map(([name, s]) => [name, { type: s.kind === 'boolean' ? 'boolean' : 'string' }] as const)),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const flags: FlagValues = {};
  const overrides: string[] = [];
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'option-terminator') throw new ArgsError(`${command}: unexpected argument '--' (see --help)`);
    if (token.kind === 'positional') {
      const arg = token.value;
      if (allowOverrides && /^[A-Za-z_][\w.]*=/.test(arg)) overrides.push(arg);
      else if (positionals.length < maxPositionals && !arg.startsWith('-')) positionals.push(arg);
      else throw new ArgsError(`${command}: unexpected argument '${arg}' (options start with --; see --help)`);
      continue;
    }
    const { name, rawName, value, inlineValue } = token;
    if (rawName === '-h' && specs.help?.kind === 'boolean') {
      flags.help = true;
      continue;
    }
    if (!rawName.startsWith('--')) throw new ArgsError(`${command}: unexpected argument '${rawName}' (options start with --; see --help)`);
    const spec = Object.prototype.hasOwnProperty.call(specs, name) ? specs[name] : undefined;
    if (spec === undefined) {
      if (allowOverrides && inlineValue === true) {
        overrides.push(`${name}=${value}`);
        continue;
      }
      throw new ArgsError(
        `${command}: unknown option '--${name}' (known: ${Object.keys(specs).map((k) => `--${k}`).join(', ')}${allowOverrides ? '; config overrides take the form --key=value' : ''})`,
      );
    }
    if (name in flags) throw new ArgsError(`${command}: option '--${name}' given twice`);
    if (spec.kind === 'boolean') {
      if (inlineValue === true) throw new ArgsError(`${command}: option '--${name}' takes no value`);
      flags[name] = true;
      continue;
    }
    if (value === undefined || (inlineValue !== true && value.startsWith('--'))) throw new ArgsError(`${command}: option '--${name}' needs a value (${spec.help})`);
    flags[name] = valueOf(command, name, spec, value);
  }
  return { flags, overrides, positionals };
};

/** The --help text of a command. */
export const helpText = (usage: string, specs: Readonly<Record<string, FlagSpec>>, extra = ''): string =>
  [
    usage,
    '',
    'options:',
    ...Object.entries(specs).map(([name, s]) => {
      const arg = { boolean: '', int: ' N', number: ' X', list: ' N,N,…', strings: ' A,B,…', string: ' VALUE' }[s.kind];
      return `${`  --${name}${arg}`.padEnd(28)} ${s.help}${s.choices ? ` (${s.choices.join('|')})` : ''}`;
    }),
    extra,
  ].join('\n');
