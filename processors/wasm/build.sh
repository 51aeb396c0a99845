#!/usr/bin/env bash
# Rebuilds the WebAssembly of the factory's wasm processors and embeds it in them
# (processors/biquad-wasm.js, oscillator-wasm.js, reverb-wasm.js). The results are
# committed, so nobody needs these toolchains to use the processors:
#   biquad.c      -> biquad.wasm      clang and lld (Debian: apt install clang lld)
#   oscillator.ts -> oscillator.wasm  AssemblyScript (npm, pinned in package.json)
#   reverb.dsp    -> reverb.wasm      the Faust compiler of @grame/faustwasm (npm)
set -euo pipefail
cd "$(dirname "$0")"

npm install --no-audit --no-fund --silent
clang --target=wasm32 -O3 -nostdlib -Wl,--no-entry -Wl,--export-dynamic -Wl,--strip-debug -o biquad.wasm biquad.c
npx asc oscillator.ts -O3 --runtime stub --noAssert -o oscillator.wasm
out=$(mktemp -d)
node node_modules/@grame/faustwasm/scripts/faust2wasm.js reverb.dsp "$out" -no-template
cp "$out/dsp-module.wasm" reverb.wasm
cp "$out/dsp-meta.json" reverb.json
rm -rf "$out"
node embed.mjs
