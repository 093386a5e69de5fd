# Sourced (POSIX sh) by ./mvnw, ./tramontane and .ci/run: exports JAVA_HOME pointing at a JDK >= 25.
# Order: JAVA_HOME if it is >= 25, else the newest JDK >= 25 under /usr/lib/jvm, else a clear error.
# The machine default `java` may well be 17, which cannot build or run Tramontane.

tramontane_jdk_major() {
  # prints the feature version of the JDK at $1 (e.g. 25), or nothing
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -r "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release"
  fi
}

tramontane_select_jdk() {
  if [ -n "${JAVA_HOME-}" ]; then
    major=$(tramontane_jdk_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then export JAVA_HOME; return 0; fi
  fi
  best="" best_major=0
  for dir in /usr/lib/jvm/*; do
    [ -d "$dir" ] || continue
    major=$(tramontane_jdk_major "$dir")
    if [ -n "$major" ] && [ "$major" -ge 25 ] && [ "$major" -gt "$best_major" ]; then
      best=$dir best_major=$major
    fi
  done
  if [ -z "$best" ]; then
    echo "tramontane: needs a JDK 25 or newer (found none in JAVA_HOME or /usr/lib/jvm)." >&2
    echo "tramontane: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
    return 1
  fi
  JAVA_HOME=$best
  export JAVA_HOME
}
