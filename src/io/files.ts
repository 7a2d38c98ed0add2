// Untrusted files at the edge: bounded whole-file reads, JSON files read through the bounded parser
// of codec.ts, directory creation that cannot loop, and OS errors rewritten to name the path and
// what was being done. Every reader of a file goes through here, so the limits live in one place.
// Not here: what the bytes mean (each format's decoder).

import { closeSync, fstatSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError, inputError, MAX_JSON_DEPTH, parseJsonText, utf8Text } from './codec.ts';

const OS_MEANING: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, expected a file',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
  EIO: 'input/output error',
};

/** An operating-system failure rewritten as "<what> <path>: <meaning> (<code>)". */
export class FileSystemError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'FileSystemError';
  }
}

/** Rewrites an OS error `e` raised while doing `what` on `file`; other errors pass through. */
export const fileError = (e: unknown, what: string, file: string): Error => {
  if (e instanceof InputError || e instanceof FileSystemError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string') return e instanceof Error ? e : new Error(String(e));
  return new FileSystemError(file, code, `cannot ${what} ${file}: ${OS_MEANING[code] ?? (e as Error).message} (${code})`);
};

/** Runs `f`, rewriting an OS error it throws as a FileSystemError naming `file`. */
export const withFileErrors = <A>(what: string, file: string, f: () => A): A => {
  try {
    return f();
  } catch (e) {
    throw fileError(e, what, file);
  }
};

/**
 * Reads a whole file, refusing one larger than `maxBytes` before allocating (InputError naming the
 * file and the limit). Reads in chunks, so files above 2 GiB work. Memory: the file's size.
 */
export const readFileBounded = (file: string, maxBytes: number, what = 'file'): Uint8Array => {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const err = fileError(e, 'read', file);
    throw err instanceof FileSystemError ? new InputError([err.message], file) : err;
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw inputError(file, `is a folder, expected a ${what}`);
    if (st.size > maxBytes) throw inputError(file, `${st.size} bytes, more than the ${maxBytes}-byte limit for a ${what}`);
    const out = new Uint8Array(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, out, off, Math.min(1 << 30, st.size - off), off);
      if (n <= 0) break;
      off += n;
    }
    return off === st.size ? out : out.subarray(0, off);
  } catch (e) {
    const err = fileError(e, 'read', file);
    throw err instanceof FileSystemError ? new InputError([err.message], file) : err;
  } finally {
    closeSync(fd);
  }
};

/** Reads a JSON file of at most `maxBytes` (bounded size and nesting, duplicate keys refused). */
export const readJsonFile = (file: string, maxBytes: number, maxDepth = MAX_JSON_DEPTH): unknown =>
  parseJsonText(utf8Text(readFileBounded(file, maxBytes, 'JSON file'), file), file, maxDepth);

/**
 * Creates `dir` and its missing parents, one level at a time from the deepest existing ancestor
 * (Node 20's recursive mkdir can spin forever where mkdir answers ENOENT for a child of an
 * existing folder, e.g. under /proc). Errors name the folder and the reason.
 */
export const ensureDir = (dir: string): void => {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    let st;
    try {
      st = statSync(cur);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a file sits somewhere above; walking up finds it and says so
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fileError(e, 'create the folder', cur);
      const parent = path.dirname(cur);
      if (parent === cur) throw new FileSystemError(cur, 'ENOENT', `cannot create the folder ${dir}: its root ${cur} does not exist`);
      missing.push(cur);
      cur = parent;
      continue;
    }
    if (!st.isDirectory()) throw new FileSystemError(cur, 'ENOTDIR', `cannot create the folder ${dir}: ${cur} exists and is not a folder`);
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d).isDirectory()) continue; // created meanwhile
      throw fileError(e, 'create the folder', d);
    }
  }
};
