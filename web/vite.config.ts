// The web page (`npm run web`): Vite serves web/ with the cross-origin-isolation headers the CPU
// engine's threads need (SharedArrayBuffer), and lets the page import the sources from src/ and
// the bundled demo model from fixtures/demo-model/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

/** Cross-origin isolation: without both headers browsers withhold SharedArrayBuffer. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

export default defineConfig({
  root,
  publicDir: false,
  server: { headers: ISOLATION_HEADERS, fs: { allow: [repo] } },
  preview: { headers: ISOLATION_HEADERS },
  worker: { format: 'es' },
  build: { target: 'esnext', outDir: fileURLToPath(new URL('../dist/web', import.meta.url)), emptyOutDir: true },
  logLevel: 'info',
});
