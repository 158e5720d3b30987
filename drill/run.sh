#!/usr/bin/env bash
# The long fault drill against the packaged service: SIGKILLs under load, Stripe failures, a PostgreSQL
# restart, then the exactly-once checks and the audit. Options: --duration S --kills N --users N --workers N
# --seed N. Exit code 0 when the drill found no problem. The test suite runs a short version (DrillTest).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -DskipTests package test-compile
mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/drill-classpath.txt
exec java -cp "target/test-classes:target/classes:$(cat target/drill-classpath.txt)" \
  io.creditledger.drill.Drill --jar target/credit-ledger.jar --work-dir target/drill "$@"
