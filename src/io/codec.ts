// Strict io-ts codecs for configuration files: objects that reject unknown keys (naming the key),
// fields with defaults, bounded numbers, and an error formatter that names file, field and the
// expected type (values shown bounded), and the project's error kind for unusable inputs.
// Used by every reader of untrusted input (configs, dataset metadata, checkpoints, run configs,
// ARC tasks, every command's flags); pure.

import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';

/** An integer in [min, max]. */
export const intIn = (min: number, max = Number.MAX_SAFE_INTEGER): t.Type<number, number, unknown> => {
  const name = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
  return new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max,
    (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max ? t.success(u) : t.failure(u, c)),
    (a) => a,
  );
};

/** A finite number in [min, max] (open at a bound when the flag says so). */
export const numberIn = (min: number, max: number, openMin = false, openMax = false): t.Type<number, number, unknown> => {
  const name = `a number in ${openMin ? '(' : '['}${min}, ${max}${openMax ? ')' : ']'}`;
  const ok = (u: unknown): u is number =>
    typeof u === 'number' && Number.isFinite(u) && (openMin ? u > min : u >= min) && (openMax ? u < max : u <= max);
  return new t.Type<number, number, unknown>(name, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), (a) => a);
};

/** One of the given string literals. */
export const oneOf = <L extends string>(values: readonly L[]): t.Type<L, L, unknown> => {
  const name = `one of ${values.map((v) => `'${v}'`).join(', ')}`;
  const ok = (u: unknown): u is L => typeof u === 'string' && (values as readonly string[]).includes(u);
  return new t.Type<L, L, unknown>(name, ok, (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)), (a) => a);
};

type AnyCodec = t.Type<any, any, unknown>;
/** Field specs: a codec alone (required) or [codec, default] (optional with default). */
export type FieldSpecs = Record<string, AnyCodec | readonly [AnyCodec, unknown]>;
type FieldType<F> = F extends readonly [infer C, unknown] ? (C extends t.Type<infer A, any, any> ? A : never) : F extends t.Type<infer A, any, any> ? A : never;
export type StrictOf<F extends FieldSpecs> = { readonly [K in keyof F]: FieldType<F[K]> };

/**
 * An object codec that rejects unknown keys ("unknown key 'x'"), requires the fields given as a
 * bare codec, and fills the fields given as [codec, default] when they are absent.
 */
export const strictObject = <F extends FieldSpecs>(name: string, fields: F): t.Type<StrictOf<F>, StrictOf<F>, unknown> => {
  const keys = Object.keys(fields);
  const codecOf = (k: string): AnyCodec => {
    const f = fields[k];
    return Array.isArray(f) ? (f as readonly [AnyCodec, unknown])[0] : (f as AnyCodec);
  };
  const is = (u: unknown): u is StrictOf<F> =>
    typeof u === 'object' && u !== null && !Array.isArray(u) &&
    Object.keys(u).every((k) => keys.includes(k)) && keys.every((k) => codecOf(k).is((u as Record<string, unknown>)[k]));
  return new t.Type<StrictOf<F>, StrictOf<F>, unknown>(
    name,
    is,
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `expected an object (${name})`);
      const rec = u as Record<string, unknown>;
      const errors: t.Errors = [];
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(rec)) {
        if (!keys.includes(k)) {
          errors.push({
            value: rec[k],
            context: [...c, { key: k, type: t.never, actual: rec[k] }],
            message: `unknown key '${k}' (allowed: ${keys.join(', ')})`,
          });
        }
      }
      for (const k of keys) {
        const spec = fields[k];
        const present = Object.prototype.hasOwnProperty.call(rec, k) && rec[k] !== undefined;
        if (!present) {
          if (Array.isArray(spec)) {
            out[k] = (spec as readonly [AnyCodec, unknown])[1];
            continue;
          }
          errors.push({
            value: undefined,
            context: [...c, { key: k, type: codecOf(k), actual: undefined }],
            message: `missing required field '${k}' (${codecOf(k).name})`,
          });
          continue;
        }
        const r = codecOf(k).validate(rec[k], [...c, { key: k, type: codecOf(k), actual: rec[k] }]);
        if (isLeft(r)) errors.push(...r.left);
        else out[k] = r.right;
      }
      return errors.length > 0 ? t.failures(errors) : t.success(Object.freeze(out) as StrictOf<F>);
    },
    (a) => a,
  );
};

/**
 * A short, bounded rendering of a value for error messages: at most `maxDepth` levels and about
 * `maxChars` characters, iterative over a depth budget (so a deeply nested input cannot overflow
 * the stack while its error is being written).
 */
export const preview = (value: unknown, maxChars = 80, maxDepth = 3): string => {
  const render = (v: unknown, depth: number): string => {
    if (v === undefined) return 'undefined';
    if (v === null || typeof v === 'boolean' || typeof v === 'number') return String(v);
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'string') return JSON.stringify(v.length > maxChars ? `${v.slice(0, maxChars)}…` : v);
    if (typeof v !== 'object') return typeof v;
    if (depth >= maxDepth) return Array.isArray(v) ? '[…]' : '{…}';
    const parts: string[] = [];
    let length = 0;
    const entries: [string | null, unknown][] = Array.isArray(v) ? v.slice(0, 16).map((x) => [null, x]) : Object.keys(v).slice(0, 16).map((k) => [k, (v as Record<string, unknown>)[k]]);
    for (const [k, x] of entries) {
      const part = (k === null ? '' : `${JSON.stringify(k)}: `) + render(x, depth + 1);
      parts.push(part);
      length += part.length + 2;
      if (length > maxChars) break;
    }
    const total = Array.isArray(v) ? v.length : Object.keys(v).length;
    const more = parts.length < total ? ', …' : '';
    return Array.isArray(v) ? `[${parts.join(', ')}${more}]` : `{${parts.join(', ')}${more}}`;
  };
  const s = render(value, 0);
  return s.length > maxChars * 2 ? `${s.slice(0, maxChars * 2)}…` : s;
};

/** Human-readable lines for io-ts errors: "<source>: field 'a.b': expected <type>, got <value>". */
export const formatErrors = (source: string, errors: t.Errors): string[] =>
  errors.slice(0, 20).map((e) => {
    const path = e.context.map((c) => c.key).filter((k) => k !== '').join('.');
    const where = path === '' ? source : `${source}: field '${path}'`;
    if (e.message !== undefined) return `${where}: ${e.message}`;
    const expected = e.context.length > 0 ? e.context[e.context.length - 1].type.name : 'a value';
    return `${where}: expected ${expected}, got ${preview(e.value)}`;
  }).concat(errors.length > 20 ? [`${source}: … and ${errors.length - 20} more problems`] : []);

/**
 * The project's own error for an input that cannot be used (a file, a flag, a config): every
 * problem names the file (or flag) and what was expected. The CLI turns it into exit code 2.
 */
export class InputError extends Error {
  constructor(
    readonly problems: readonly string[],
    /** the file (or flag) the problems are about, when there is one */
    readonly file?: string,
  ) {
    super(problems.join('\n'));
    this.name = 'InputError';
  }
}

/** An InputError about `file`: "<file>: <detail>". */
export const inputError = (file: string, detail: string): InputError => new InputError([`${file}: ${detail}`], file);

/** A config (file, preset or overrides) that does not decode or cannot run. */
export class ConfigError extends InputError {
  constructor(problems: readonly string[], file?: string) {
    super(problems, file);
    this.name = 'ConfigError';
  }
}

/** Decodes `value` with `codec`, throwing a ConfigError naming `source` and the fields. */
export const decodeOrThrow = <A>(codec: t.Type<A, unknown, unknown> | t.Type<A, A, unknown> | t.Decoder<unknown, A>, value: unknown, source: string): A => {
  const r = (codec as t.Decoder<unknown, A>).decode(value);
  if (isLeft(r)) throw new ConfigError(formatErrors(source, r.left), source);
  return r.right;
};

/** Deepest JSON nesting any input of this project needs (configs: 3, ARC grids: 4). */
export const MAX_JSON_DEPTH = 64;

/**
 * Checks JSON text before it is parsed: nesting at most `maxDepth` and no object with a repeated
 * key (JSON.parse would keep the last silently). One pass, constant stack. Returns a problem or null.
 */
export const jsonShapeProblem = (text: string, maxDepth = MAX_JSON_DEPTH): string | null => {
  // per open container: null for an array, the set of keys seen for an object
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      const top = stack.at(-1);
      if (expectKey && top instanceof Set) {
        let key: string;
        try {
          key = JSON.parse(text.slice(start, i + 1)) as string;
        } catch {
          return null; // malformed: JSON.parse reports it with its position
        }
        if (top.has(key)) return `key ${JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key)} appears twice in one object (at character ${start})`;
        top.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) return `nested more than ${maxDepth} levels deep (at character ${i})`;
      stack.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack.at(-1) instanceof Set;
    }
  }
  return null;
};

/** Parses untrusted JSON text; every problem is an InputError naming `file`. */
export const parseJsonText = (text: string, file: string, maxDepth = MAX_JSON_DEPTH): unknown => {
  const problem = jsonShapeProblem(text, maxDepth);
  if (problem !== null) throw inputError(file, `not valid JSON: ${problem}`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw inputError(file, `not valid JSON (${(e as Error).message.slice(0, 200)})`);
  }
};

/** Decodes UTF-8 bytes strictly (InputError naming `file` on a bad sequence). */
export const utf8Text = (bytes: Uint8Array, file: string): string => {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw inputError(file, 'not valid UTF-8 text');
  }
};

