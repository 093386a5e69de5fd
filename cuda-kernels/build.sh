#!/usr/bin/env bash
# Compiles KERNEL_DIR/all_kernels.cu (default: the kernels beside this script) into one fatbin
# (sm_90a + sm_100a SASS, compute_90 PTX) under OUTPUT_DIR.
# Prints ptxas' resource usage and fails when a HOT_KERNEL of KERNEL_DIR/*.cu spills registers
# (SpillCheckTest proves that it does, on cuda-kernels/test/spilling).
# Without nvcc it says so and succeeds: the CPU backend does not need the kernels.
set -euo pipefail
out_dir=${1:?usage: build.sh OUTPUT_DIR [KERNEL_DIR]}
kernels=$(cd "${2:-$(dirname "$0")}" && pwd)
fatbin=$out_dir/tramontane.fatbin
report=$out_dir/resource-usage.txt

nvcc=$(command -v nvcc || true)
[ -n "$nvcc" ] || for candidate in /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc; do
  [ -x "$candidate" ] && nvcc=$candidate && break
done
if [ -z "$nvcc" ]; then
  echo "cuda-kernels: nvcc not found, skipped building the CUDA kernels (the CPU backend does not need them)"
  exit 0
fi

mkdir -p "$out_dir"
# test/ holds the spill fixture and the host emulator, not kernels of the fatbin
if [ -f "$fatbin" ] && [ -z "$(find "$kernels" -path "$kernels/test" -prune -o -newer "$fatbin" -type f -print | head -n 1)" ]; then
  echo "cuda-kernels: $fatbin is up to date"
  exit 0
fi

echo "cuda-kernels: compiling with $("$nvcc" --version | tail -n 1)"
if ! "$nvcc" -fatbin -O3 -std=c++17 --resource-usage \
  -gencode arch=compute_90a,code=sm_90a \
  -gencode arch=compute_100a,code=sm_100a \
  -gencode arch=compute_90,code=compute_90 \
  -o "$fatbin.tmp" "$kernels/all_kernels.cu" 2> "$report"; then
  cat "$report" >&2
  echo "cuda-kernels: nvcc failed" >&2
  exit 1
fi
cat "$report"

# Kernels marked HOT_KERNEL in the sources; ptxas reports each per architecture.
hot=$({ grep -ho 'HOT_KERNEL void\( __launch_bounds__([^)]*)\)\? [A-Za-z_0-9]*' "$kernels"/*.cu || true; } \
  | awk '{print $NF}' | sort -u)  # none is fine
failed=0
for kernel in $hot; do
  # ptxas prints "Compiling entry function 'NAME' for 'sm_XX'" followed by the usage lines
  spills=$(awk -v k="$kernel" '
    /Compiling entry function/ { current = index($0, "'"'"'" k "'"'"'") > 0 }
    current && /spill stores/ { print }' "$report" | grep -v ' 0 bytes spill stores, 0 bytes spill loads' || true)
  if ! grep -q "entry function '$kernel'" "$report"; then
    echo "cuda-kernels: HOT_KERNEL $kernel not found in the ptxas report" >&2; failed=1
  elif [ -n "$spills" ]; then
    echo "cuda-kernels: HOT_KERNEL $kernel spills registers: $spills" >&2; failed=1
  fi
done
[ "$failed" = 0 ] || { rm -f "$fatbin.tmp"; exit 1; }
mv "$fatbin.tmp" "$fatbin"
echo "cuda-kernels: wrote $fatbin ($(stat -c %s "$fatbin") bytes); hot kernels without spills: $(echo $hot)"
