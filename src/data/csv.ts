// A streaming reader for the public puzzle CSV files (header row, comma-separated, optional
// RFC 4180 double quotes within a line). Yields each record with its 1-based line number so errors
// can name file and line. Not a general CSV library: a quoted field may not span lines.

import * as fs from 'node:fs';
import * as readline from 'node:readline';

export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

/** Splits one CSV line into fields; throws on an unterminated quote. */
export const parseCsvLine = (text: string): string[] => {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            s += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += text[i++];
      }
      if (i < text.length && text[i] !== ',') throw new Error(`unexpected character '${text[i]}' after a quoted field`);
      out.push(s);
    } else {
      const j = text.indexOf(',', i);
      const end = j < 0 ? text.length : j;
      out.push(text.slice(i, end));
      i = end;
    }
    if (i >= text.length) break;
    i++; // the comma
    if (i === text.length) {
      out.push('');
      break;
    }
  }
  return out;
};

/**
 * Reads `file`, checks the header equals `header`, and yields every data record (blank lines are
 * skipped). Errors name the file and the line.
 */
export async function* readCsv(file: string, header: readonly string[]): AsyncGenerator<CsvRecord> {
  if (!fs.existsSync(file)) throw new Error(`${file}: file not found`);
  const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const raw of rl) {
      line++;
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') continue;
      let fields: string[];
      try {
        fields = parseCsvLine(text);
      } catch (e) {
        throw new Error(`${file}:${line}: ${(e as Error).message}`);
      }
      if (line === 1) {
        const got = fields.map((f) => f.trim());
        if (got.length !== header.length || got.some((f, k) => f !== header[k])) {
          throw new Error(`${file}:1: header is '${got.join(',')}', expected '${header.join(',')}'`);
        }
        continue;
      }
      if (fields.length !== header.length) {
        throw new Error(`${file}:${line}: ${fields.length} fields, expected ${header.length} (${header.join(', ')})`);
      }
      yield { line, fields };
    }
  } finally {
    rl.close();
  }
  if (line === 0) throw new Error(`${file}: empty file (expected the header ${header.join(',')})`);
}

/** Quotes a field when it holds a comma, quote or newline. */
const csvField = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** One CSV line (no newline). */
export const csvLine = (fields: readonly (string | number)[]): string => fields.map((f) => csvField(String(f))).join(',');
