// Where an engine gets what differs between Node and a browser (threads, V8 flags, native
// packages): a slot that holds the platform adapter in use. A browser entry installs its adapter
// when it loads; in Node the slot loads the engine's `platform-node` adapter on first use, through
// a URL computed at run time, so bundlers for the browser never see a `node:` import.

export interface PlatformSlot<P> {
  /** makes `adapter` the one this engine uses from now on */
  install(adapter: P): void;
  /** the installed adapter, or in Node the engine's `platform-node` adapter */
  get(): Promise<P>;
  /** the adapter once `get` or `install` has provided one */
  current(): P | undefined;
}

const inNode = (): boolean => typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';

/** The URL of a sibling module `name` of `base` (an import.meta.url), with base's own extension. */
export const siblingUrl = (base: string, name: string): string => new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base).href;

/** A slot for engine `what` whose Node adapter is the module at `nodeAdapterUrl` (exporting `platform`). */
export const platformSlot = <P>(what: string, nodeAdapterUrl: string): PlatformSlot<P> => {
  let current: P | undefined;
  let loading: Promise<P> | undefined;
  return {
    install: (adapter) => {
      current = adapter;
    },
    get: async () => {
      if (current !== undefined) return current;
      if (!inNode()) throw new Error(`${what}: no platform adapter is installed; load hrm-ts through its browser entry ('hrm-ts/browser')`);
      loading ??= (import(/* @vite-ignore */ nodeAdapterUrl) as Promise<{ platform: P }>).then((m) => (current ??= m.platform));
      return loading;
    },
    current: () => current,
  };
};
