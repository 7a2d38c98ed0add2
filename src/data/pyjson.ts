// JSON text exactly as Python's `json.dump(obj, f)` writes it with default options: separators
// ", " and ": ", ASCII-only strings (\uXXXX escapes), floats in Python's repr (1.0, 1e-07, 1e+22).
// Used so identifiers.json and dataset.json are byte-identical to the original builders' files.
// Not a parser (JSON.parse reads both styles).

/** A value that Python's json module would write; `PyFloat` marks a number that is a Python float. */
export type PyJson = null | boolean | number | string | PyFloat | readonly PyJson[] | { readonly [k: string]: PyJson };

export class PyFloat {
  constructor(readonly value: number) {}
}

/** Python's repr of a float: shortest round-trip digits, always with '.0' or an exponent. */
export const pyFloatRepr = (x: number): string => {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0.0';
  const abs = Math.abs(x);
  // Python switches to exponent notation below 1e-4 or at/after 1e16; JS below 1e-6 or at 1e21
  if (abs >= 1e16 || abs < 1e-4) {
    const [mant, exp] = x.toExponential().split('e');
    const e = Number(exp);
    const sign = e < 0 ? '-' : '+';
    return `${mant}e${sign}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const s = String(x);
  return s.includes('.') ? s : `${s}.0`;
};

const escapeString = (s: string): string => {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
};

/** Serializes like `json.dumps(value)` (integers as ints, PyFloat as Python floats). */
export const pyJsonDumps = (value: PyJson): string => {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return pyFloatRepr(value);
    return String(value);
  }
  if (typeof value === 'string') return escapeString(value);
  if (Array.isArray(value)) return `[${(value as readonly PyJson[]).map(pyJsonDumps).join(', ')}]`;
  const obj = value as { readonly [k: string]: PyJson };
  return `{${Object.keys(obj)
    .map((k) => `${escapeString(k)}: ${pyJsonDumps(obj[k])}`)
    .join(', ')}}`;
};
