// A dataset folder in the browser: from a directory picker (<input webkitdirectory>) or the bundled
// demo data, read through the same decoding and checks as in Node (src/data/dataset.ts). Files are
// read only when a split needs them, and a folder whose arrays exceed READ_LIMIT is refused.

import { checkSplitCounts, decodeMetadata, decodeOrThrow, decodePuzzleSet, IdentifiersCodec, parseJsonText, setFiles, type DatasetMetadata, type PuzzleSet } from '../src/browser.ts';

/** Largest total of array bytes read from one split (the page holds them in memory). */
export const READ_LIMIT = 1 << 30;

export interface FolderSource {
  readonly name: string;
  /** file paths relative to the dataset folder → their size and a reader */
  readonly files: ReadonlyMap<string, { size: number; read: () => Promise<Uint8Array> }>;
}

export interface LoadedSplit {
  readonly split: string;
  readonly metadata: DatasetMetadata;
  readonly sets: Record<string, PuzzleSet>;
}

export interface LoadedDataset {
  readonly name: string;
  readonly identifiers: string[] | null;
  readonly splits: LoadedSplit[];
}

/** A picked directory: paths lose their first component (the folder's own name). */
export const folderFromFileList = (list: FileList): FolderSource => {
  const files = new Map<string, { size: number; read: () => Promise<Uint8Array> }>();
  let name = 'dataset';
  for (const f of Array.from(list)) {
    const parts = (f.webkitRelativePath || f.name).split('/');
    if (parts.length > 1) name = parts[0];
    files.set(parts.slice(parts.length > 1 ? 1 : 0).join('/'), { size: f.size, read: async () => new Uint8Array(await f.arrayBuffer()) });
  }
  return { name, files };
};

/** Bundled files served by the page (URL per relative path). */
export const folderFromUrls = (name: string, urls: ReadonlyMap<string, string>): FolderSource => {
  const files = new Map<string, { size: number; read: () => Promise<Uint8Array> }>();
  for (const [rel, url] of urls) {
    files.set(rel, {
      size: 0,
      read: async () => {
        const r = await fetch(url);
        if (!r.ok) throw new Error(`${name}/${rel}: HTTP ${r.status}`);
        return new Uint8Array(await r.arrayBuffer());
      },
    });
  }
  return { name, files };
};

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Reads identifiers.json (if present) and every split that has a dataset.json. */
export const loadDataset = async (src: FolderSource): Promise<LoadedDataset> => {
  const get = async (rel: string): Promise<Uint8Array> => {
    const f = src.files.get(rel);
    if (f === undefined) throw new Error(`${src.name}/${rel}: missing (a dataset folder holds identifiers.json and {train,test}/dataset.json with the .npy arrays)`);
    return f.read();
  };
  const identifiers = src.files.has('identifiers.json')
    ? decodeOrThrow(IdentifiersCodec, parseJsonText(text(await get('identifiers.json')), `${src.name}/identifiers.json`), `${src.name}/identifiers.json`)
    : null;
  const splits: LoadedSplit[] = [];
  for (const split of ['train', 'test']) {
    if (!src.files.has(`${split}/dataset.json`)) continue;
    const where = `${src.name}/${split}`;
    const metadata = decodeMetadata(parseJsonText(text(await get(`${split}/dataset.json`)), `${where}/dataset.json`), `${where}/dataset.json`);
    const needed = metadata.sets.flatMap((s) => setFiles(s).map((f) => `${split}/${f}`));
    const total = needed.reduce((n, f) => n + (src.files.get(f)?.size ?? 0), 0);
    if (total > READ_LIMIT) throw new Error(`${where}: its arrays hold ${(total / 2 ** 20).toFixed(0)} MiB, more than the page reads (${READ_LIMIT / 2 ** 20} MiB)`);
    const bytes = new Map<string, Uint8Array>();
    for (const f of needed) bytes.set(f.slice(split.length + 1), await get(f));
    const sets: Record<string, PuzzleSet> = {};
    for (const s of metadata.sets) sets[s] = decodePuzzleSet((name) => bytes.get(name)!, where, s, metadata, split === 'train');
    checkSplitCounts(metadata, sets, `${where}/dataset.json`);
    splits.push({ split, metadata, sets });
  }
  if (splits.length === 0) throw new Error(`${src.name}: no train/dataset.json or test/dataset.json found`);
  return { name: src.name, identifiers, splits };
};
