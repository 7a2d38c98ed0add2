// Random access to a file on disk as a ByteSource, so archives larger than one Buffer (Node's
// readFileSync stops at 2 GiB) are read entry by entry. Every read returns a fresh array that the
// caller owns. Not here: parsing (zip.ts) or caching.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ByteSource } from './zip.ts';

export interface FileSource extends ByteSource {
  close(): void;
}

/** Opens `path` for reading; close() it when done (or use withFileSource). */
export const openFileSource = (path: string): FileSource => {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let open = true;
  return {
    size,
    fresh: true,
    read: (offset, length) => {
      if (!open) throw new Error(`${path}: read after close`);
      const len = Math.max(0, Math.min(length, size - offset));
      const out = new Uint8Array(len);
      for (let got = 0; got < len; ) {
        // readSync moves at most ~2 GiB per call; loop until done
        const n = readSync(fd, out, got, Math.min(len - got, 1 << 30), offset + got);
        if (n === 0) return out.subarray(0, got); // the file shrank under us
        got += n;
      }
      return out;
    },
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
};

/** Runs `f` on an open source for `path` and closes it afterwards, even on error. */
export const withFileSource = <A>(path: string, f: (src: FileSource) => A): A => {
  const src = openFileSource(path);
  try {
    return f(src);
  } finally {
    src.close();
  }
};
