package io.creditledger.bench;

import io.creditledger.support.TestDatabase;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps the benchmark harness from rotting: runs every scenario in-process (the jar is not built in the test
 * phase) with tiny data and very short durations, on the test databases, and checks that each produced a row
 * with requests and no unexpected error, and that the table was printed. The databases it used are checked for
 * the journal invariant after the class, like every test's. Benchmarks proper never run in {@code mvn verify}.
 */
@Tag("slow")
class BenchSmokeTest {

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void everyScenarioRunsAndReports() {
    Options o = new Options().smoke();
    o.inProcess = true;
    o.durationSeconds = 1;
    o.warmupSeconds = 0.2;
    o.concurrency = 4;
    o.users = 50;
    o.resetUsers = 100;
    o.outboxRows = 40;
    o.workDir = Path.of("target", "bench-smoke");
    o.serviceEnv.put("DATABASE_POOL_SIZE", "4");
    o.serviceEnv.put("VERTICLE_INSTANCES", "1");

    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream both = new PrintStream(new TeeStream(System.out, captured), true, StandardCharsets.UTF_8);
    Bench.Report report = Bench.run(o, DbServer.supplied(TestDatabase::fresh), both);
    both.flush();

    assertThat(report.problems()).isEmpty();
    List<Row> service = report.rows().stream().filter(r -> r.kind().equals("service")).toList();
    assertThat(service).extracting(Row::scenario).filteredOn(name -> !name.contains("open loop"))
        .containsExactlyElementsOf(Options.SCENARIOS);
    assertThat(service).extracting(Row::scenario).as("consume-spread again, open loop at half its throughput")
        .anyMatch(name -> name.startsWith("consume-spread at half (") && name.endsWith("/s, open loop)"));
    for (Row r : service) {
      assertThat(r.count()).as(r.scenario() + " count").isPositive();
      assertThat(r.errors()).as(r.scenario() + " errors").isZero();
      assertThat(r.throughput()).as(r.scenario() + " throughput").isPositive();
    }
    String printed = captured.toString(StandardCharsets.UTF_8);
    assertThat(printed).contains("| scenario | run | count |");
    for (String scenario : Options.SCENARIOS) {
      assertThat(printed).contains("| " + scenario + " | service |");
    }
    if (PgBench.find() != null) {
      assertThat(report.rows()).anyMatch(r -> r.kind().equals("pgbench") && r.count() > 0);
      assertThat(report.rows()).anyMatch(Row::isRatio);
    }
  }

  /** Prints to the console and keeps a copy. */
  private static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int c) throws java.io.IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws java.io.IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }

    @Override
    public void flush() throws java.io.IOException {
      a.flush();
      b.flush();
    }
  }
}
