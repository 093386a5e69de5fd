#!/usr/bin/env bash
# Compiles cuda-kernels/ into one fatbin (sm_90a + sm_100a SASS, compute_90 PTX) under $1.
# Prints ptxas' resource usage and fails when a HOT_KERNEL spills registers.
# Without nvcc it says so and succeeds: the CPU backend does not need the kernels.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out_dir=${1:?usage: build.sh OUTPUT_DIR}
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
if [ -f "$fatbin" ] && [ -z "$(find "$here" -newer "$fatbin" -type f | head -n 1)" ]; then
  echo "cuda-kernels: $fatbin is up to date"
  exit 0
fi

echo "cuda-kernels: compiling with $("$nvcc" --version | tail -n 1)"
"$nvcc" -fatbin -O3 -std=c++17 --resource-usage \
  -gencode arch=compute_90a,code=sm_90a \
  -gencode arch=compute_100a,code=sm_100a \
  -gencode arch=compute_90,code=compute_90 \
  -o "$fatbin.tmp" "$here/all_kernels.cu" 2> "$report"
cat "$report"

# Kernels marked HOT_KERNEL in the sources; ptxas reports each per architecture.
hot=$(grep -ho 'HOT_KERNEL void\( __launch_bounds__([^)]*)\)\? [A-Za-z_0-9]*' "$here"/*.cu | awk '{print $NF}' | sort -u)
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
