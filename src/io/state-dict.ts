// Checking loaded weights against a model's parameter layout (the ordered {name, shape} table).
// Missing tensors and wrong shapes are errors (all of them listed in one message); tensors the
// layout does not know are returned as warnings, so a caller can report and ignore them.
// Not here: reading files (safetensors.ts, torch-checkpoint.ts) or building the layout.

import { inputError } from './codec.ts';

export interface LayoutEntry {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface StateDictCheck {
  /** names in the file that the layout does not have, in file order */
  readonly unexpected: readonly string[];
  /** one readable line per unexpected name */
  readonly warnings: readonly string[];
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * Checks that every layout name is present in `tensors` with exactly the layout's shape.
 * Throws one InputError naming `fileName` and every missing or mis-shaped tensor (its shape and the
 * expected one); returns the unexpected extra names as warnings.
 */
export const checkStateDict = (
  tensors: ReadonlyMap<string, { readonly shape: readonly number[] }>,
  layout: ReadonlyArray<LayoutEntry>,
  fileName: string,
): StateDictCheck => {
  const problems: string[] = [];
  const known = new Set<string>();
  for (const { name, shape } of layout) {
    known.add(name);
    const t = tensors.get(name);
    if (t === undefined) {
      problems.push(`missing tensor '${name}' (expected shape ${shapeText(shape)})`);
    } else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`tensor '${name}' has shape ${shapeText(t.shape)}, expected ${shapeText(shape)}`);
    }
  }
  if (problems.length > 0) {
    throw inputError(fileName, `weights do not match the model layout (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`);
  }
  const unexpected = [...tensors.keys()].filter((k) => !known.has(k));
  return {
    unexpected,
    warnings: unexpected.map((k) => `${fileName}: tensor '${k}' ${shapeText(tensors.get(k)!.shape)} is not part of the model layout and is ignored`),
  };
};
