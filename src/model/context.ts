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

/** Gradients by original parameter name (owned handles); `addGrad` accumulates. */
export type Grads<T> = Map<string, T>;

/** Adds g (owned) into grads[name], disposing what it replaces. */
export const addGrad = <T>(b: Backend<T>, grads: Grads<T>, name: string, g: T): void => {
  const prev = grads.get(name);
  if (prev === undefined) {
    grads.set(name, g);
    return;
  }
  grads.set(name, b.add(prev, g));
  b.dispose(prev);
  b.dispose(g);
};

/** Disposes every handle given (skipping undefined). */
export const disposeAll = <T>(b: Backend<T>, ...hs: (T | undefined)[]): void => {
  for (const h of hs) if (h !== undefined) b.dispose(h);
};
