// Atomic, durable files written as a stream: the bytes go through a sink to `<name>.tmp-<pid>`
// (buffered in 8 MiB blocks), are fsynced, renamed over the final name, and the folder is
// fsynced; on any failure the temp file is removed and the final name is untouched. Memory: one
// block, whatever the file's size.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { ByteSink } from './zip.ts';

const BLOCK = 8 << 20;

/** Writes `file` through `write(sink)`, atomically; returns the number of bytes written. */
export const writeFileAtomic = (file: string, write: (sink: ByteSink) => void): number => {
  const temp = `${file}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w');
  let total = 0;
  try {
    try {
      const block = new Uint8Array(BLOCK);
      let fill = 0;
      const flush = (): void => {
        for (let off = 0; off < fill; ) off += writeSync(fd, block, off, fill - off);
        fill = 0;
      };
      write({
        write: (bytes) => {
          total += bytes.length;
          if (bytes.length >= BLOCK) {
            flush();
            for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
            return;
          }
          if (fill + bytes.length > BLOCK) flush();
          block.set(bytes, fill);
          fill += bytes.length;
        },
      });
      flush();
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      // the temp file may already be gone; the original error is what matters
    }
    throw new Error(`cannot write ${file}: ${(e as Error).message}`);
  }
  try {
    const dirFd = openSync(path.dirname(file), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // some file systems cannot fsync a folder; the rename itself is atomic
  }
  return total;
};
