// A streaming reader for the public puzzle CSV files (header row, comma-separated, optional
// RFC 4180 double quotes within a line). Yields each record with its 1-based line number so errors
// can name file and line. Bounded: reads 64 KiB at a time and refuses a line longer than
// MAX_CSV_LINE (memory: one chunk plus one line), strict UTF-8. Not a general CSV library: a
// quoted field may not span lines.

import * as fs from 'node:fs';
import { inputError } from '../io/codec.ts';
import { fileError } from '../io/files.ts';

/** Longest line accepted (a 30×30 maze row is about 1,900 characters). */
export const MAX_CSV_LINE = 1 << 20;

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
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
    if (fs.fstatSync(fd).isDirectory()) {
      fs.closeSync(fd);
      throw inputError(file, 'is a folder, expected a CSV file');
    }
  } catch (e) {
    const err = fileError(e, 'read', file);
    throw err.name === 'FileSystemError' ? inputError(file, err.message.replace(`cannot read ${file}: `, '')) : err;
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const chunk = new Uint8Array(1 << 16);
  let pending = '';
  let line = 0;
  let position = 0;
  const handle = (raw: string): CsvRecord | null => {
    line++;
    const text = (line === 1 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, '');
    if (text.trim() === '') return null;
    let fields: string[];
    try {
      fields = parseCsvLine(text);
    } catch (e) {
      throw inputError(`${file}:${line}`, (e as Error).message);
    }
    if (line === 1) {
      const got = fields.map((f) => f.trim());
      if (got.length !== header.length || got.some((f, k) => f !== header[k])) {
        throw inputError(`${file}:1`, `header is '${got.join(',').slice(0, 200)}', expected '${header.join(',')}'`);
      }
      return null;
    }
    if (fields.length !== header.length) throw inputError(`${file}:${line}`, `${fields.length} fields, expected ${header.length} (${header.join(', ')})`);
    return { line, fields };
  };
  try {
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, chunk, 0, chunk.length, position);
      } catch (e) {
        throw inputError(file, fileError(e, 'read', file).message);
      }
      position += n;
      let text: string;
      try {
        text = decoder.decode(chunk.subarray(0, n), { stream: n > 0 });
      } catch {
        throw inputError(file, `not valid UTF-8 text (near byte ${position})`);
      }
      pending += text;
      let start = 0;
      let nl: number;
      while ((nl = pending.indexOf('\n', start)) >= 0) {
        const r = handle(pending.slice(start, nl));
        start = nl + 1;
        if (r !== null) yield r;
      }
      pending = pending.slice(start);
      if (pending.length > MAX_CSV_LINE) throw inputError(`${file}:${line + 1}`, `line longer than ${MAX_CSV_LINE} characters`);
      if (n === 0) break;
    }
    if (pending.length > 0) {
      const r = handle(pending);
      if (r !== null) yield r;
    }
  } finally {
    fs.closeSync(fd);
  }
  if (line === 0) throw inputError(file, `empty file (expected the header ${header.join(',')})`);
}

/** Quotes a field when it holds a comma, quote or newline. */
const csvField = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** One CSV line (no newline). */
export const csvLine = (fields: readonly (string | number)[]): string => fields.map((f) => csvField(String(f))).join(',');
