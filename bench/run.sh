#!/usr/bin/env bash
# The credit ledger's benchmark (issue 7): builds the service jar and the test classes, then runs the harness
# io.creditledger.bench.Bench from the test classpath. Options are the harness's (bench/run.sh --help), plus:
#   --no-build   reuse target/ as it is (the jar, the test classes and target/bench-classpath.txt)
# DATABASE_URL=postgresql://user:pass@host:port/db runs against that server; unset, an embedded PostgreSQL starts.
# Needs JDK 17+ and Maven; pgbench on the PATH for the anchor rows (skipped with a note otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *) args+=("$a") ;;
  esac
done

classpath_file=target/bench-classpath.txt
if [[ $build == 1 || ! -f target/credit-ledger.jar || ! -f $classpath_file || ! -d target/test-classes ]]; then
  echo "[bench] building: mvn -q -B -DskipTests package dependency:build-classpath" >&2
  mvn -q -B -DskipTests package dependency:build-classpath \
    -Dmdep.outputFile="$classpath_file" -Dmdep.includeScope=test
fi

java_bin=java
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  java_bin="$JAVA_HOME/bin/java"
fi
exec "$java_bin" -cp "target/test-classes:target/classes:$(cat "$classpath_file")" \
  io.creditledger.bench.Bench ${args[@]+"${args[@]}"}
