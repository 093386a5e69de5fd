#!/usr/bin/env bash
# Packages the one-command GPU check into target/gpu-check/ for a GPU machine that has the NVIDIA driver but
# no JDK and no network (docs/gpu-check.md):
#   runtime/        a jlink-ed Java runtime with only the modules the shaded jar needs
#   tramontane.jar  the shaded engine jar (with the fatbin when nvcc built it)
#   run.sh          runtime/bin/java ... -jar tramontane.jar gpu-check --out "$OUT" [--shared DIR]
#   BUILD_INFO      commit, date, fatbin presence; run.sh copies it next to the results
# Needs src/target/tramontane.jar (./mvnw -B package). --rehearse then runs the package here and checks the
# answer: "passed" with a driver, otherwise "skipped" with exit code 3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/.mvn/find-jdk.sh"
tramontane_select_jdk || exit 1

jar=$root/src/target/tramontane.jar
out=$root/target/gpu-check
max_mb=55
[ -f "$jar" ] || { echo "package-gpu-check: $jar missing; build it with ./mvnw -B package" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
# The modules the jar's classes reference, by jdeps, plus the Vector API (added with --add-modules at run time),
# less java.desktop: only jackson-databind refers to it (java.beans annotations, `requires static` in its
# module-info, so optional), and it would add 15 MB of AWT. The rehearsal runs the result.
modules=$("$JAVA_HOME/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 "$jar" \
  | tr , '\n' | grep -vx java.desktop | { cat; echo jdk.incubator.vector; } | sort -u | paste -sd, -)
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress=zip-9 --output "$out/runtime"
# libjvm.so ships its symbol table (5 MB); only native crash reports use it
if command -v strip >/dev/null; then strip --strip-unneeded "$out/runtime/lib/server/libjvm.so"; fi
cp "$jar" "$out/tramontane.jar"

fatbin=absent
if unzip -l "$jar" io/tramontane/backend/cuda/tramontane.fatbin >/dev/null 2>&1; then fatbin=present; fi
{
  echo "commit: $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "java: $("$out/runtime/bin/java" -version 2>&1 | head -n 1)"
  echo "modules: $modules"
  echo "fatbin: $fatbin"
} > "$out/BUILD_INFO"

cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# The GPU check in one command: ./run.sh [OUT_DIR [gpu-check options, e.g. --shared DIR]]
# (OUT_DIR default: $OUT, else ./results beside this script; --shared DIR adds DIR/golden's models).
# Exit codes: 0 all checks passed, 1 a check failed, 3 skipped (no usable CUDA driver or device).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-${OUT:-$here/results}}
[ $# -gt 0 ] && shift
mkdir -p "$OUT"
cp "$here/BUILD_INFO" "$OUT/BUILD_INFO"
exec "$here/runtime/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -jar "$here/tramontane.jar" gpu-check --out "$OUT" "$@"
RUN
chmod +x "$out/run.sh"

size_mb=$(du -sm "$out" | cut -f1)
echo "package-gpu-check: $out is ${size_mb} MB (runtime modules: $modules; fatbin $fatbin)"
if [ "$size_mb" -gt "$max_mb" ]; then
  echo "package-gpu-check: larger than ${max_mb} MB; the device tool carries at most 64 MiB" >&2
  exit 1
fi
[ "$fatbin" = present ] || echo "package-gpu-check: WARNING: no fatbin in the jar (nvcc absent at build); on a GPU the check will fail" >&2

if [ "${1:-}" = --rehearse ]; then
  results=$(mktemp -d)
  trap 'rm -rf "$results"' EXIT
  set +e
  env -i PATH=/usr/bin:/bin "$out/run.sh" "$results" > "$results/stdout.txt" 2>&1
  code=$?
  set -e
  cat "$results/stdout.txt"
  status=$(sed -n 's/^  "status" : "\([a-z]*\)".*/\1/p' "$results/gpu-check.json" 2>/dev/null || true)
  if { [ "$code" = 3 ] && [ "$status" = skipped ]; } || { [ "$code" = 0 ] && [ "$status" = passed ]; }; then
    echo "package-gpu-check: rehearsal OK (exit $code, status $status, without JAVA_HOME or a JDK on PATH)"
  else
    echo "package-gpu-check: rehearsal FAILED: exit $code, status '${status}'" >&2
    exit 1
  fi
fi
