#!/usr/bin/env bash
# llama.cpp side by side with Tramontane on this machine (issue #9): installs node-llama-cpp's prebuilt llama.cpp CPU
# binaries from npm (node-llama-cpp 3.22.1, pinned in package.json), writes BF16, Q8_0, Q4_0 and Q4_K_M GGUFs of the 0.86B synthetic shape once into
# the cache, then runs both engines in turn. usage: benchmarks/llamacpp/run.sh [rounds=3] [threads=2] [depth=0: the
# whole table; N: BF16 decode after N positions of context]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${TRAMONTANE_CACHE:-$HOME/.cache/tramontane}/llamacpp
command -v node >/dev/null || { echo "run.sh: needs Node.js 20+ (apt install nodejs npm)" >&2; exit 1; }
# npm install, not npm ci: the lock file lacks the other platforms' optional binaries, which npm ci refuses; package.json pins the version
[ -d "$here/node_modules/node-llama-cpp" ] || (cd "$here" && npm install --ignore-scripts --no-audit --no-fund --no-save)
mkdir -p "$cache"
for type in bf16 q8_0 q4_0 q4_k_m; do
  [ -f "$cache/$type.gguf" ] || node "$here/make-gguf.mjs" "$cache/$type.gguf" "$type"
done
node "$here/side-by-side.mjs" "${1:-3}" "${2:-2}" "${3:-0}"
