// The Node entry of hrm-ts (`import … from 'hrm-ts'`): the platform-neutral library (src/library.ts)
// plus what works on files: dataset folders, checkpoint files and run directories, training. The
// engines load their Node adapters (worker_threads, Dawn) on first use.

export * from './library.ts';
export { readSplit, readIdentifiers, readMetadata, writeSplit, writeIdentifiers } from './data/format.ts';
export { loadModel, resolveCheckpoint } from './train/load-model.ts';
export { runSession } from './train/session.ts';
