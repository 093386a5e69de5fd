#!/usr/bin/env bash
# Gets a GPU session ready in one command (docs/gpu-check.md, "On a GPU session"): builds the jar with the fatbin,
# packages and rehearses the GPU check, copies the golden cases into two ignored halves that each fit beside the
# package in the device tool's 64 MiB carry limit, and prints the two device-tool calls to make.
#   scripts/prepare-gpu-session.sh [SHARED_DIR]      (default: ../shared)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "${1:-$root/../shared}" && pwd)
carry_limit=$((64 * 1024 * 1024))
cd "$root"

./mvnw -B -q -DskipTests package
scripts/package-gpu-check.sh --rehearse

# tekken_vocab_bf16 (70 MB) fits in no carry; the CPU covers it
halves=("a:dense_f32_layouts dense_bf16_hf_gqa fp8_native_small" "b:moe_4x2_layouts ministral3_yarn_tied")
rm -rf .gpu-shared
package_bytes=$(du -sb target/gpu-check | cut -f1)
for half in "${halves[@]}"; do
  name=${half%%:*}
  mkdir -p ".gpu-shared/$name/golden"
  for case in ${half#*:}; do
    [ -d "$shared/golden/$case" ] || { echo "prepare-gpu-session: $shared/golden/$case missing" >&2; exit 1; }
    cp -r "$shared/golden/$case" ".gpu-shared/$name/golden/"
  done
  total=$((package_bytes + $(du -sb ".gpu-shared/$name" | cut -f1)))
  if [ "$total" -gt "$carry_limit" ]; then
    echo "prepare-gpu-session: package + golden half $name is $total bytes, over the 64 MiB carry limit" >&2
    exit 1
  fi
  echo "prepare-gpu-session: carry for half $name: $((total / 1024 / 1024)) MiB"
done

cat <<'CALLS'
prepare-gpu-session: ready. The device tool calls (each under its 10-minute limit; rows stream as they finish):
  run(command = "target/gpu-check/run.sh \"$OUT\" --shared .gpu-shared/a", carry = ["target/gpu-check", ".gpu-shared/a"])
  run(command = "target/gpu-check/run.sh \"$OUT\" --shared .gpu-shared/b --only golden", carry = ["target/gpu-check", ".gpu-shared/b"])
The first took 194-212 s on an H200 (2026-11-26); call the second within the machine's 30 s warm window. --only picks
sections for a rerun (ops, attention, gemm, sampling, moe, cublaslt, golden, graphs, tp, devstral); `--only
gemm,devstral` alone times every gemv layout per shape and end to end, one mixed by width too (TRAMONTANE_GEMV_LAYOUT picks, e.g. r4c1s4,4096=r2c2s2).
If CUDA graphs or tensor cores are suspect, prefix the command with TRAMONTANE_CUDA_GRAPHS=off (or on) to separate the causes.
Record the card, driver, commit (BUILD_INFO) and the table in docs/gpu-log.md.
CALLS
