// Worker-thread entry of parallel.ts: registers the TypeScript loader in this thread (workers do
// not inherit it), then runs parallel-worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./parallel-worker.ts');
