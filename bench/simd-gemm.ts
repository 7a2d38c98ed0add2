// Micro-benchmark of the CPU engine's heavy kernels at the model's shapes: the three products of a
// linear layer (y = x·Wᵀ, dX = dY·W, dW = dYᵀ·X) and attention forward/backward, in GFLOP/s per
// wall second and per CPU second (the latter is what a busy machine still lets one measure).
// Usage: node --import tsx bench/simd-gemm.ts [threads=1,2] [variant=relaxed]

import { createSimdBackend } from '../src/accelerated/simd/backend.ts';

const threadsList = (process.argv[2] ?? '1,2').split(',').map(Number);
const variant = (process.argv[3] ?? 'relaxed') as 'relaxed' | 'plain';

const rnd = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

const time = (fn: () => void, minMs = 300): { wall: number; cpu: number } => {
  fn();
  let reps = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || reps < 3) {
    fn();
    reps++;
  }
  const wall = (performance.now() - t0) / reps;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 / reps };
};

for (const threads of threadsList) {
  const be = await createSimdBackend({ threads, simd: variant });
  const rows: string[] = [];
  const report = (name: string, flops: number, t: { wall: number; cpu: number }): void => {
    rows.push(`| ${name} | ${t.wall.toFixed(3)} | ${(flops / t.wall / 1e6).toFixed(1)} | ${((flops / t.cpu / 1e6) * threads).toFixed(1)} |`);
  };
  for (const [N, K, M] of [[2592, 128, 384], [2592, 128, 1024], [2592, 512, 128], [2592, 256, 1024], [2592, 1024, 256]]) {
    const x = be.fromArray([N, K], rnd(N * K));
    const w = be.fromArray([M, K], rnd(M * K));
    const dy = be.fromArray([N, M], rnd(N * M));
    const flops = 2 * N * K * M;
    report(`y=xWᵀ ${N}×${K}×${M}`, flops, time(() => be.dispose(be.linear(x, w))));
    report(`dX, dW ${N}×${K}×${M}`, 2 * flops, time(() => {
      const g = be.linearBackward(dy, x, w, false);
      be.dispose(g.dx);
      be.dispose(g.dw);
    }));
    be.dispose(x); be.dispose(w); be.dispose(dy);
  }
  for (const [B, S, H, hd] of [[32, 81, 4, 32], [32, 81, 4, 64], [16, 81, 2, 32]]) {
    const qkv = be.fromArray([B, S, 3 * H * hd], rnd(B * S * 3 * H * hd));
    const dy = be.fromArray([B, S, H * hd], rnd(B * S * H * hd));
    const flops = 4 * B * H * S * S * hd;
    report(`attention ${B}×${H} heads ${S}×${S}×${hd}`, flops, time(() => be.dispose(be.attention(qkv, H))));
    report(`attention bwd ${B}×${H} heads ${S}×${S}×${hd}`, 2 * flops, time(() => be.dispose(be.attentionBackward(dy, qkv, H))));
  }
  console.log(`\n${be.description}\n| kernel | ms | GFLOP/s (wall) | GFLOP/s per busy thread·threads |\n|---|---|---|---|\n${rows.join('\n')}`);
  await be.close();
}
