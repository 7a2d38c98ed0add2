// What every model function receives: the backend, the architecture with its derived sizes, the
// RoPE tables (or null for learned positions), a weight lookup by original name, and optional
// hooks (a recorder that copies named intermediates to the host; a gradient sink). Types only,
// plus the small helpers every model file uses. Never imports a concrete backend.

import type { Backend } from '../core/backend.ts';
import type { ArchConfig, DerivedSizes } from './config.ts';

export interface ModelContext<T> {
  readonly b: Backend<T>;
  readonly arch: ArchConfig;
  readonly sizes: DerivedSizes;
  /** cos, sin [S, hd] for RoPE; null with learned positions */
  readonly rope: { readonly cos: T; readonly sin: T } | null;
  /** the current handle of a layout entry (throws when absent) */
  readonly w: (name: string) => T;
  /** optional: receives named intermediates (borrowed; copy before the call returns) */
  readonly record?: (key: string, handle: T) => void;
}

/**
 * Gradients by original parameter name (owned handles); `addGrad` accumulates. `slots` (owned):
 * where each parameter's gradient is to be placed (`Backend.place`), e.g. views of one pack that
 * the optimizer then updates in one pass.
 */
export type Grads<T> = Map<string, T> & { slots?: Map<string, T> };

/** Adds g (owned) into grads[name], disposing what it replaces; the first one goes to its slot. */
export const addGrad = <T>(b: Backend<T>, grads: Grads<T>, name: string, g: T): void => {
  const prev = grads.get(name);
  if (prev === undefined) {
    const slot = grads.slots?.get(name);
    grads.slots?.delete(name);
    grads.set(name, slot === undefined ? g : b.place(g, slot));
    return;
  }
  const sum = b.add(prev, g);
  b.dispose(g);
  // the sum goes where prev is (its slot, when it has one)
  grads.set(name, b.place(sum, prev));
};

/** Disposes every handle given (skipping undefined). */
export const disposeAll = <T>(b: Backend<T>, ...hs: (T | undefined)[]): void => {
  for (const h of hs) if (h !== undefined) b.dispose(h);
};
