// Typed access to the WebAssembly JS API, which this project's TypeScript settings (lib ES2022,
// Node types only) do not declare: just the parts the engine uses, without touching globals.

export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}

/** A compiled module (opaque; cloneable into workers). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: { exports(module: WasmModule): { name: string; kind: string }[] };
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: Record<string, Record<string, unknown>>): Promise<WasmInstance>;
}

export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
