// Command-line flags of `hrm train`, `hrm eval` and `hrm solve`: a small strict parser (every flag
// is declared; an unknown one is named in the error), plus `--key=value` config overrides for
// train. Pure: returns values or throws an ArgsError; the CLI turns that into exit code 2.

export class ArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgsError';
  }
}

export interface FlagSpec {
  readonly kind: 'string' | 'boolean' | 'int' | 'list';
  readonly help: string;
  /** an integer flag's smallest allowed value */
  readonly min?: number;
  /** allowed values of a string flag */
  readonly choices?: readonly string[];
}

export type FlagValues = Record<string, string | boolean | number | number[] | undefined>;

export interface Parsed {
  readonly flags: FlagValues;
  /** `--a.b=v` or `--key=v` for keys that are not flags (config overrides) */
  readonly overrides: string[];
}

/**
 * Parses argv against `specs` (flag names without `--`). `--flag value` and `--flag=value` both
 * work; boolean flags take no value. With `allowOverrides`, `--x=v` where x is not a flag is
 * collected as a config override; otherwise it is an error.
 */
export const parseFlags = (command: string, argv: readonly string[], specs: Readonly<Record<string, FlagSpec>>, allowOverrides = false): Parsed => {
  const flags: FlagValues = {};
  const overrides: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      if (allowOverrides && /^[A-Za-z_][\w.]*=/.test(arg)) {
        overrides.push(arg);
        continue;
      }
      throw new ArgsError(`${command}: unexpected argument '${arg}' (options start with --; see --help)`);
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs[name];
    if (spec === undefined) {
      if (allowOverrides && eq > 0) {
        overrides.push(arg.slice(2));
        continue;
      }
      throw new ArgsError(`${command}: unknown option '--${name}' (known: ${Object.keys(specs).map((k) => `--${k}`).join(', ')}${allowOverrides ? '; config overrides take the form --key=value' : ''})`);
    }
    if (name in flags) throw new ArgsError(`${command}: option '--${name}' given twice`);
    if (spec.kind === 'boolean') {
      if (eq >= 0) throw new ArgsError(`${command}: option '--${name}' takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new ArgsError(`${command}: option '--${name}' needs a value (${spec.help})`);
      value = argv[++i];
    }
    if (spec.kind === 'int') {
      const n = Number(value);
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) throw new ArgsError(`${command}: option '--${name}' expects an integer, got '${value}'`);
      if (spec.min !== undefined && n < spec.min) throw new ArgsError(`${command}: option '--${name}' must be ≥ ${spec.min}, got ${n}`);
      flags[name] = n;
    } else if (spec.kind === 'list') {
      const parts = value.split(',').map((s) => s.trim());
      const nums = parts.map(Number);
      if (parts.some((s) => !/^\d+$/.test(s)) || nums.some((n) => n < 1)) throw new ArgsError(`${command}: option '--${name}' expects positive integers separated by commas, got '${value}'`);
      flags[name] = nums;
    } else {
      if (spec.choices && !spec.choices.includes(value)) throw new ArgsError(`${command}: option '--${name}' must be one of ${spec.choices.join(', ')}, got '${value}'`);
      flags[name] = value;
    }
  }
  return { flags, overrides };
};

/** The --help text of a command. */
export const helpText = (usage: string, specs: Readonly<Record<string, FlagSpec>>, extra = ''): string =>
  [
    usage,
    '',
    'options:',
    ...Object.entries(specs).map(([name, s]) => {
      const left = `  --${name}${s.kind === 'boolean' ? '' : s.kind === 'int' ? ' N' : s.kind === 'list' ? ' N,N,…' : ' VALUE'}`;
      return `${left.padEnd(28)} ${s.help}${s.choices ? ` (${s.choices.join('|')})` : ''}`;
    }),
    extra,
  ].join('\n');
