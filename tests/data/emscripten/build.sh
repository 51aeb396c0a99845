#!/usr/bin/env bash
# Rebuilds biquad.mjs: processors/wasm/biquad.c with libm in place of the Math
# imports, compiled by Emscripten (Debian's emscripten 3.1.6) into one ES module
# with its wasm inside (-sSINGLE_FILE) and synchronous compilation, as web-audio
# projects build their AudioWorklet DSP. The result is committed; the test
# `wasm_toolchains::an_emscripten_single_file_build_runs_unchanged` renders it.
set -euo pipefail
cd "$(dirname "$0")"
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
src=$(mktemp --suffix=.c)
trap 'rm -f "$src"' EXIT
{
  printf '#include <math.h>\n#define js_cos cos\n#define js_sin sin\n#define js_pow pow\n'
  grep -v '^__attribute__((import_module' ../../../processors/wasm/biquad.c
} > "$src"
emcc -O2 -sSINGLE_FILE=1 -sWASM_ASYNC_COMPILATION=0 -sENVIRONMENT=shell \
  -sEXPORTED_FUNCTIONS=_process,_inputs,_outputs,_frequencies,_maxChannels \
  "$src" -o biquad.mjs
