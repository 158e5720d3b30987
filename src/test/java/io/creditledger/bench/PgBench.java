package io.creditledger.bench;

import io.creditledger.config.DatabaseUrl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The anchor: {@code pgbench} running a script of the same SQL the ledger runs for one request, against the same
 * server and dataset with the same number of requests in flight ({@code -c N -j 2 -T s -n -M prepared}). Latencies
 * come from pgbench's per-transaction log ({@code -l}), so the percentiles are computed like the service's.
 */
final class PgBench {
  private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
  private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
  private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");

  record Result(long transactions, double tps, long failed, double seconds, Latencies latencies, String output) {
  }

  private PgBench() {
  }

  /** pgbench on the PATH, or null. */
  static Path find() {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(":")) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "pgbench");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  static String version(Path pgbench) {
    try {
      Process p = new ProcessBuilder(pgbench.toString(), "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor();
      return out;
    } catch (Exception e) {
      return "unknown";
    }
  }

  /**
   * Runs {@code script} for {@code seconds} (whole seconds, at least 1) with {@code clients} connections.
   * {@code onStart} gets the pgbench process once it runs (to follow its CPU).
   */
  static Result run(Path pgbench, DatabaseUrl db, Path script, int clients, double seconds, Map<String, String> vars,
                    Path logDir, String name, java.util.function.Consumer<Process> onStart) {
    try {
      Files.createDirectories(logDir);
      try (Stream<Path> old = Files.list(logDir)) {
        for (Path p : old.filter(p -> p.getFileName().toString().startsWith(name + ".")).toList()) {
          Files.delete(p);
        }
      }
      List<String> cmd = new ArrayList<>(List.of(pgbench.toString(), "-h", db.host(), "-p", Integer.toString(db.port()),
          "-U", db.user(), "-n", "-M", "prepared", "-c", Integer.toString(clients),
          "-j", Integer.toString(Math.min(2, clients)), "-T", Long.toString(Math.max(1, Math.round(seconds))),
          "-l", "--log-prefix=" + logDir.resolve(name)));
      vars.forEach((k, v) -> {
        cmd.add("-D");
        cmd.add(k + "=" + v);
      });
      cmd.add("-f");
      cmd.add(script.toAbsolutePath().toString());
      cmd.add(db.database());
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      if (db.password() != null) {
        pb.environment().put("PGPASSWORD", db.password());
      }
      Process p = pb.start();
      onStart.accept(p);
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(seconds + 120 > 0 ? (long) seconds + 120 : 120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("pgbench did not finish");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException("pgbench exited with " + p.exitValue() + ":\n" + out);
      }
      Latencies latencies = new Latencies();
      try (Stream<Path> logs = Files.list(logDir)) {
        for (Path log : logs.filter(f -> f.getFileName().toString().startsWith(name + ".")).toList()) {
          try (Stream<String> lines = Files.lines(log)) {
            lines.forEach(line -> {
              String[] f = line.split(" ");
              // client_id transaction_no time script_no time_epoch time_us; time is "failed"/"skipped" otherwise
              if (f.length >= 3 && !f[2].isEmpty() && Character.isDigit(f[2].charAt(0))) {
                latencies.record(Long.parseLong(f[2]));
              }
            });
          }
        }
      }
      return new Result(number(PROCESSED, out), Double.parseDouble(group(TPS, out, "0")), number(FAILED, out),
          Math.max(1, Math.round(seconds)), latencies, out);
    } catch (IOException e) {
      throw new IllegalStateException("pgbench failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static long number(Pattern p, String out) {
    return Long.parseLong(group(p, out, "0"));
  }

  private static String group(Pattern p, String out, String otherwise) {
    Matcher m = p.matcher(out);
    return m.find() ? m.group(1) : otherwise;
  }
}
