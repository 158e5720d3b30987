package io.creditledger.bench;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.db.Migrations;
import io.creditledger.support.FakeStripe;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The credit ledger's benchmark (issue 7). {@code bench/run.sh} runs {@link #main}; the smoke test runs
 * {@link #run} in-process with tiny settings. Scenarios:
 * <ul>
 *   <li>{@code consume-spread}, {@code consume-hot}, {@code grants}, {@code balance}: HTTP load on one service
 *       over one dataset ({@code --users} users, each with a purchase grant of 10^9 credits), each followed by
 *       its pgbench anchor (the same SQL without the service) and a ratio row; consume-spread is then run once
 *       more open-loop at half the throughput it reached, for the latency at a load short of saturation;</li>
 *   <li>{@code reset-backlog}: {@code --reset-users} users whose cycle ended, reset by one
 *       {@code POST /v1/admin/resets/run};</li>
 *   <li>{@code outbox-drain}: {@code --outbox-rows} Stripe outbox rows queued while the relay was off, then
 *       delivered to the fake Stripe (50 ms per answer) by a service started with the relay on.</li>
 * </ul>
 * Every scenario checks what it did (counts in the database, the journal invariant), and a failed check is a
 * problem that makes the run exit 1.
 */
public final class Bench {
  private static final long SEED_CREDITS = 1_000_000_000L; // MAX_CREDITS_PER_OPERATION: no consume runs dry
  private static final int PURCHASE_PRIORITY = 80;           // GRANT_PRIORITIES' default for purchase

  private final Options o;
  private final DbServer db;
  private final PrintStream log;
  private final List<Row> rows = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final Path pgbench;
  private final String runId = Long.toString(System.currentTimeMillis(), 36);
  private final Path runDir;
  /** the HTTP scenarios' database, settled before each measured phase ({@link #settle}) */
  private DatabaseUrl httpData;

  /** What a run produced: the rows, the Markdown report (facts, table, notes) and the failed checks. */
  public record Report(List<Row> rows, String table, String markdown, List<String> problems) {
  }

  Bench(Options o, DbServer db, PrintStream log) {
    this.o = o;
    this.db = db;
    this.log = log;
    this.pgbench = o.pgbench ? PgBench.find() : null;
    this.runDir = o.workDir.resolve("run-" + runId);
  }

  public static void main(String[] args) {
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      if (!e.getMessage().isEmpty()) {
        System.err.println(e.getMessage());
      }
      System.err.print(Options.USAGE);
      System.exit(e.getMessage().isEmpty() ? 0 : 2);
      return;
    }
    String url = System.getenv("DATABASE_URL");
    Report report;
    try (DbServer server = url != null && !url.isBlank() ? DbServer.external(url, o.keepDatabases) : DbServer.embedded()) {
      report = new Bench(o, server, System.out).run();
    }
    System.exit(report.problems().isEmpty() ? 0 : 1);
  }

  Report run() {
    say("Benchmark " + runId + ": " + o.describe());
    say("Database: " + db.describe());
    if (o.pgbench && pgbench == null) {
      notes.add("pgbench was not found on the PATH: the anchor rows were skipped (install PostgreSQL's client "
          + "tools, e.g. apt-get install postgresql-client, to get them).");
      say("NOTE: pgbench not found on the PATH; skipping the anchor rows");
    }
    String facts = machineFacts();
    if (o.wants("consume-spread") || o.wants("consume-hot") || o.wants("grants") || o.wants("balance")
        || o.wants("hold-capture")) {
      guarded("HTTP scenarios", this::httpScenarios);
    }
    if (o.wants("reset-backlog")) {
      guarded("reset-backlog", this::resetBacklog);
    }
    if (o.wants("outbox-drain")) {
      guarded("outbox-drain", this::outboxDrain);
    }
    String table = Row.table(rows);
    StringBuilder md = new StringBuilder();
    md.append(facts).append('\n').append(table).append('\n');
    md.append(legend());
    if (!notes.isEmpty()) {
      md.append("\nNotes:\n");
      notes.forEach(n -> md.append("- ").append(n).append('\n'));
    }
    if (!problems.isEmpty()) {
      md.append("\nFAILED CHECKS:\n");
      problems.forEach(p -> md.append("- ").append(p).append('\n'));
    }
    log.println();
    log.println(md);
    if (o.out != null) {
      try {
        Path parent = o.out.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(o.out, md.toString(), StandardCharsets.UTF_8);
        say("Wrote " + o.out);
      } catch (IOException e) {
        problems.add("could not write " + o.out + ": " + e.getMessage());
      }
    }
    return new Report(List.copyOf(rows), table, md.toString(), List.copyOf(problems));
  }

  private interface Step {
    void run() throws Exception;
  }

  private void guarded(String what, Step step) {
    try {
      step.run();
    } catch (Exception | AssertionError e) {
      problems.add(what + " failed: " + e);
      say("FAILED " + what + ": " + e);
      e.printStackTrace(log);
    }
  }

  private void say(String line) {
    log.println("[bench " + DateTimeFormatter.ofPattern("HH:mm:ss").format(ZonedDateTime.now()) + "] " + line);
    log.flush();
  }

  private void check(boolean ok, String problem) {
    if (!ok) {
      problems.add(problem);
      say("CHECK FAILED: " + problem);
    }
  }

  // ---------------------------------------------------------------- HTTP scenarios

  private Service startService(String name, DatabaseUrl database, Map<String, String> scenarioSettings) {
    Map<String, String> extra = new HashMap<>(scenarioSettings);
    extra.putAll(o.serviceEnv);
    Path dir = runDir.resolve(name);
    say("Starting the service (" + (o.inProcess ? "in-process" : "java -jar " + o.jar) + ") for " + name
        + (scenarioSettings.isEmpty() ? "" : " with " + scenarioSettings));
    Service s = Service.start(o.inProcess, o.jar, dir, Service.settings(database, dir.resolve("data"), extra));
    say("Service ready on port " + s.port() + (s.forked() ? " (pid " + s.pid() + ", log " + dir.resolve("service.log") + ")" : ""));
    return s;
  }

  private void httpScenarios() throws Exception {
    DatabaseUrl data = db.fresh("api");
    httpData = data;
    say("Migrating " + data.database() + " and loading " + o.users + " users with a purchase grant of "
        + SEED_CREDITS + " credits each");
    Migrations.apply(data);
    Datasets.users(data, o.users, false, false, SEED_CREDITS, PURCHASE_PRIORITY);
    try (Service service = startService("api", data, Map.of());
         LoadGenerator gen = new LoadGenerator("127.0.0.1", service.port(), o.concurrency)) {
      if (o.wants("consume-spread")) {
        AtomicLong n = new AtomicLong();
        long before = Datasets.count(data, "SELECT coalesce(sum(usage_this_cycle), 0) FROM users");
        Outcome r = http("consume-spread", service, gen, seq -> consume(randomUser(), "cs-" + runId + "-" + n.incrementAndGet()));
        long after = Datasets.count(data, "SELECT coalesce(sum(usage_this_cycle), 0) FROM users");
        checkCommitted("consume-spread", r, after - before, "credits consumed (sum of usage_this_cycle)");
        anchor("consume-spread", service, data, "consume.sql", Map.of("users", Integer.toString(o.users)));
        double half = (r.measured().ok.get() + r.measured().refused402.get()) / r.measured().seconds / 2;
        try (LoadGenerator open = new LoadGenerator("127.0.0.1", service.port(), o.openLoopConnections())) {
          atRate("consume-spread at half", service, open, half,
              seq -> consume(randomUser(), "cs-half-" + runId + "-" + n.incrementAndGet()));
        }
      }
      if (o.wants("consume-hot")) {
        AtomicLong n = new AtomicLong();
        long before = Datasets.count(data, "SELECT usage_this_cycle FROM users WHERE user_id = 'u1'");
        Outcome r = http("consume-hot", service, gen, seq -> consume("u1", "ch-" + runId + "-" + n.incrementAndGet()));
        long after = Datasets.count(data, "SELECT usage_this_cycle FROM users WHERE user_id = 'u1'");
        checkCommitted("consume-hot", r, after - before, "credits consumed by u1");
        anchor("consume-hot", service, data, "consume.sql", Map.of("users", "1"));
      }
      if (o.wants("grants")) {
        AtomicLong n = new AtomicLong();
        long before = Datasets.count(data, "SELECT count(*) FROM grants");
        Outcome r = http("grants", service, gen, seq -> new LoadGenerator.Request(HttpMethod.POST,
            "/v1/users/" + randomUser() + "/grants", "{\"operationId\":\"g-" + runId + "-" + n.incrementAndGet()
            + "\",\"type\":\"purchase\",\"amount\":10}", Service.SERVICE_TOKEN));
        long after = Datasets.count(data, "SELECT count(*) FROM grants");
        checkCommitted("grants", r, after - before, "grants written");
        anchor("grants", service, data, "grant.sql", Map.of("users", Integer.toString(o.users)));
      }
      if (o.wants("balance")) {
        http("balance", service, gen, seq -> new LoadGenerator.Request(HttpMethod.GET,
            "/v1/users/" + randomUser() + "/balance", null, Service.SERVICE_TOKEN));
        anchor("balance", service, data, "balance.sql", Map.of("users", Integer.toString(o.users)));
      }
      if (o.wants("hold-capture")) {
        // each lane places a hold of 10 credits, then captures 7 of it: two requests per AI request served
        AtomicLong n = new AtomicLong();
        String prefix = "hc-" + runId + "-";
        Outcome r = http("hold-capture", service, gen, seq -> {
          String user = randomUser();
          String hold = prefix + n.incrementAndGet();
          return new LoadGenerator.Request(HttpMethod.POST, "/v1/users/" + user + "/holds",
              "{\"operationId\":\"" + hold + "\",\"amount\":10}", Service.SERVICE_TOKEN,
              new LoadGenerator.Request(HttpMethod.POST, "/v1/users/" + user + "/holds/" + hold + "/capture",
                  "{\"operationId\":\"" + hold + "-c\",\"amount\":7}", Service.SERVICE_TOKEN));
        });
        long captured = Datasets.count(data, "SELECT count(*) FROM holds WHERE state = 'captured' AND captured = 7 "
            + "AND hold_id LIKE '" + prefix + "%'");
        long answered = r.ok();
        check(r.errors() > 0 || answered == 2 * captured, "hold-capture: " + answered
            + " successful answers (holds and captures) but " + captured + " captured holds in the database");
      }
    }
    List<String> broken = Datasets.journalViolations(data);
    check(broken.isEmpty(), "journal invariant broken after the HTTP scenarios: " + broken);
  }

  private String randomUser() {
    return "u" + ThreadLocalRandom.current().nextInt(1, o.users + 1);
  }

  private static LoadGenerator.Request consume(String user, String operationId) {
    return new LoadGenerator.Request(HttpMethod.POST, "/v1/users/" + user + "/consume",
        "{\"operationId\":\"" + operationId + "\",\"amount\":1}", Service.SERVICE_TOKEN);
  }

  /** What a warm-up plus measured run answered, to compare with what the database shows afterwards. */
  private record Outcome(LoadGenerator.Result warmup, LoadGenerator.Result measured) {
    long ok() {
      return (warmup == null ? 0 : warmup.ok.get()) + measured.ok.get();
    }

    long errors() {
      return (warmup == null ? 0 : warmup.errorCount()) + measured.errorCount();
    }
  }

  private Outcome http(String name, Service service, LoadGenerator gen, LoadGenerator.Source source) {
    LoadGenerator.Result warm = null;
    if (o.warmupSeconds > 0) {
      say(name + ": warming up for " + o.warmupSeconds + " s");
      warm = gen.run(source, o.concurrency, o.warmupSeconds, Long.MAX_VALUE);
      settleJit(name, service, gen, source, warm);
    }
    settle(name);
    if (warm != null) {
      // a few seconds back under load after the database's pause, so no answer measured waited through it
      warm.absorb(gen.run(source, o.concurrency, RESUME_SECONDS, Long.MAX_VALUE));
    }
    say(name + ": measuring for " + o.durationSeconds + " s with " + o.concurrency + " requests in flight");
    Window w = new Window(service.pid(), db, -1);
    LoadGenerator.Result r = gen.run(source, o.concurrency, o.durationSeconds, Long.MAX_VALUE);
    w.stop();
    noteAutovacuums(name, w);
    long answered = r.ok.get() + r.refused402.get();
    Row row = new Row(name, "service", "requests", r.requests(), r.seconds, answered / r.seconds,
        ms(r.latencies.percentileMs(50)), ms(r.latencies.percentileMs(99)), ms(r.latencies.percentileMs(99.9)),
        r.errorCount(), r.refused402.get(), w.serviceCpuSeconds(), w.peakRssMb(), w.dbCpuSeconds(),
        service.forked() ? w.selfCpuSeconds() : Double.NaN, w.otherCpuSeconds(), w.hostBusyPercent(), "");
    add(row);
    check(r.errorCount() == 0, name + ": " + r.errorCount() + " unexpected errors: " + r.errorSummary());
    check(warm == null || warm.errorCount() == 0, name + " warm-up: " + (warm == null ? 0 : warm.errorCount())
        + " unexpected errors: " + (warm == null ? "" : warm.errorSummary()));
    check(r.requests() > 0, name + ": no request completed");
    return new Outcome(warm, r);
  }

  /**
   * Goes on warming up, in slices of {@link #JIT_SLICE_SECONDS}, until the service's JIT compiler threads used less
   * than {@link #JIT_QUIET_SHARE} of a core in the last slice, for at most {@code --jit-settle} seconds. On a slow
   * machine C2 needs minutes, not seconds, to compile the service's paths (seen: half a core for 55 s of load,
   * quiet only after 85 s), and a run measured before then gives a core the service's steady state would not
   * use to the compiler. pgbench has nothing to compile. The slices' answers count in {@code warm}.
   */
  private void settleJit(String name, Service service, LoadGenerator gen, LoadGenerator.Source source,
                         LoadGenerator.Result warm) {
    long before = ProcStats.jitCpuTicks(service.pid());
    if (o.jitSettleSeconds <= 0 || before < 0) {
      return;
    }
    for (double extra = JIT_SLICE_SECONDS; extra <= o.jitSettleSeconds; extra += JIT_SLICE_SECONDS) {
      LoadGenerator.Result slice = gen.run(source, o.concurrency, JIT_SLICE_SECONDS, Long.MAX_VALUE);
      long after = ProcStats.jitCpuTicks(service.pid());
      double share = (after - before) / (double) ProcStats.ticksPerSecond() / slice.seconds;
      before = after;
      warm.absorb(slice);
      if (share < JIT_QUIET_SHARE) {
        say(name + String.format(": JIT quiet (%.1f%% of a core) after %.0f s more warm-up", share * 100, extra));
        return;
      }
    }
    say(name + ": JIT still compiling after " + o.jitSettleSeconds + " s more warm-up; measuring anyway");
  }

  /**
   * A note naming the autovacuums and autoanalyzes that finished while {@code name} was measured (in
   * {@code window}): on two cores, one of them takes a core for a second or more, and the requests queue behind it.
   */
  private void noteAutovacuums(String name, Window window) {
    List<String> ran = Datasets.autovacuumsBetween(httpData, window.startedAt(), Instant.now());
    if (!ran.isEmpty()) {
      notes.add(name + ": PostgreSQL's background work finished inside the measured window: " + String.join(", ", ran)
          + ".");
    }
  }

  private static final double JIT_SLICE_SECONDS = 5;
  private static final double JIT_QUIET_SHARE = 0.05;
  private static final double RESUME_SECONDS = 3;

  /**
   * Leaves the database nothing to do in the background for what was written before: {@code VACUUM (ANALYZE)} of
   * every table with rows, then a {@code CHECKPOINT}. Run before each measured phase (the service's
   * after its warm-up, pgbench's, the open-loop one's before its warm-up), so that none of them pays for the
   * autovacuum and the checkpoint the phase before it set off. Without it, the anchor ran beside the autovacuum
   * of the rows the service had just written and the open-loop run beside those of the anchor's (seen:
   * {@code VACUUM ANALYZE operations} and a checkpoint through the open-loop run, p99 58 ms). What a phase's own
   * writes set off while it runs is its own cost.
   */
  private void settle(String name) {
    settle(name, httpData);
  }

  private void settle(String name, DatabaseUrl data) {
    long start = System.nanoTime();
    Datasets.settle(data);
    say(name + String.format(": database settled (VACUUM ANALYZE, CHECKPOINT) in %.1f s",
        (System.nanoTime() - start) / 1e9));
  }

  /**
   * An open-loop run at {@code perSecond} requests a second (the latency an operator sees at a given load, rather
   * than at saturation): a row of its own, latencies measured from each request's scheduled send time. It warms up
   * at the same rate first, like the closed-loop runs: it follows a pgbench anchor that left the service idle, and
   * without a warm-up the service answered its first two seconds at 7 ms a request instead of 2, and the backlog
   * that built up then (up to 120 ms behind schedule) was the p99. The database is settled after the warm-up, right
   * before the window, as for the closed-loop runs: settled before it, the warm-up's writes set off autoanalyzes of
   * operations, journal and users and an autovacuum of users that finished in the window's first second (seen at
   * 05:30 on 2026-11-27, p99 66 ms). {@code gen} should have enough connections ({@code --open-loop-connections})
   * that requests due on schedule do not queue for one: with the closed loop's 32 at 4,050/s, the service answered
   * at p99 9.9 ms (its access log) while requests waited 86 ms at p99 for a connection (06:09 on 2026-11-27), so
   * the row measured the client's pool.
   */
  private void atRate(String name, Service service, LoadGenerator gen, double perSecond, LoadGenerator.Source source) {
    String label = name + " (" + Math.round(perSecond) + "/s, open loop)";
    if (o.warmupSeconds > 0) {
      say(label + ": warming up for " + o.warmupSeconds + " s");
      LoadGenerator.Result warm = gen.runAtRate(source, perSecond, o.warmupSeconds);
      check(warm.errorCount() == 0, label + " warm-up: " + warm.errorCount() + " unexpected errors: "
          + warm.errorSummary());
    }
    settle(label);
    say(label + ": measuring for " + o.durationSeconds + " s");
    Window w = new Window(service.pid(), db, -1);
    LoadGenerator.Result r = gen.runAtRate(source, perSecond, o.durationSeconds);
    w.stop();
    noteAutovacuums(label, w);
    add(new Row(label, "service", "requests", r.requests(), r.seconds, (r.ok.get() + r.refused402.get()) / r.seconds,
        ms(r.latencies.percentileMs(50)), ms(r.latencies.percentileMs(99)), ms(r.latencies.percentileMs(99.9)),
        r.errorCount(), r.refused402.get(), w.serviceCpuSeconds(), w.peakRssMb(), w.dbCpuSeconds(),
        service.forked() ? w.selfCpuSeconds() : Double.NaN, w.otherCpuSeconds(), w.hostBusyPercent(), ""));
    check(r.errorCount() == 0, label + ": " + r.errorCount() + " unexpected errors: " + r.errorSummary());
    notes.add(String.format(Locale.ROOT, "%s: of each request's latency, the generator sent it %.2f ms after its "
        + "scheduled time at p99 (%.2f ms at most), and it waited %.2f ms at p99 (%.2f ms at most) for one of the "
        + "%d connections; the rest is the round trip.", label, ms(r.sendLags.percentileMs(99)),
        ms(r.sendLags.percentileMs(100)), ms(r.connectionWaits.percentileMs(99)),
        ms(r.connectionWaits.percentileMs(100)), gen.connections()));
  }

  private void checkCommitted(String name, Outcome r, long inDatabase, String what) {
    if (r.errors() == 0) {
      check(inDatabase == r.ok(), name + ": " + r.ok() + " successful answers but " + inDatabase + " " + what);
    }
  }

  private static double ms(Double v) {
    return v == null ? Double.NaN : v;
  }

  private void add(Row row) {
    rows.add(row);
    say(String.join(" | ", row.cells()));
  }

  private void anchor(String scenario, Service idle, DatabaseUrl data, String script, Map<String, String> vars) {
    if (pgbench == null) {
      return;
    }
    Path file = o.scriptDir.resolve(script);
    if (!Files.isRegularFile(file)) {
      problems.add(scenario + ": no pgbench script " + file.toAbsolutePath());
      return;
    }
    Row service = rows.get(rows.size() - 1);
    settle(scenario + " anchor");
    say(scenario + ": pgbench anchor " + script + " for " + Math.max(1, Math.round(o.durationSeconds)) + " s with "
        + o.concurrency + " clients");
    Window w = new Window(idle.forked() ? idle.pid() : -1, db, -1); // the idle service is not "other" CPU
    PgBench.Result r;
    try {
      r = PgBench.run(pgbench, data, file, o.concurrency, o.durationSeconds, vars, runDir.resolve("pgbench"),
          scenario, p -> w.follow(p.pid()));
    } catch (RuntimeException e) {
      w.stop();
      problems.add(scenario + " anchor: " + e.getMessage());
      return;
    }
    w.stop();
    Row row = new Row(scenario, "pgbench", "transactions", r.transactions(), r.seconds(), r.tps(),
        ms(r.latencies().percentileMs(50)), ms(r.latencies().percentileMs(99)), ms(r.latencies().percentileMs(99.9)),
        r.failed(), 0, Double.NaN, Double.NaN, w.dbCpuSeconds(), w.extraCpuSeconds(), w.otherCpuSeconds(),
        w.hostBusyPercent(), "");
    add(row);
    check(r.failed() == 0, scenario + " anchor: " + r.failed() + " failed pgbench transactions");
    check(r.transactions() > 0, scenario + " anchor: pgbench processed no transaction:\n" + r.output());
    if (service.scenario().equals(scenario) && service.kind().equals("service")) {
      add(Row.ratio(service, row));
    }
  }

  // ---------------------------------------------------------------- reset-backlog

  /**
   * reset-backlog: {@code --reset-users} due users reset by one {@code POST /v1/admin/resets/run}, measured on a warm
   * service: as many users are loaded and reset first, so the service compiles its reset path while they are reset
   * (the HTTP scenarios warm up the same way); the second cohort is then loaded, the database settled, and its run
   * measured. The warm-up run's rate goes into the notes.
   */
  private void resetBacklog() throws Exception {
    DatabaseUrl data = db.fresh("reset");
    int n = o.resetUsers;
    say("Migrating " + data.database() + " and loading " + n + " due users (the warm-up cohort), each with a "
        + "purchase grant of 500");
    Migrations.apply(data);
    Datasets.users(data, 1, n, true, false, 500, PURCHASE_PRIORITY);
    // the scheduled scan must not start on its own: only the admin runs reset
    try (Service service = startService("reset-backlog", data, Map.of("RESET_SCAN_INTERVAL", "PT1H"))) {
      ResetRun warm = runResets(service, data, n, "warm-up");
      say("Loading " + n + " more due users (the measured cohort)");
      Datasets.users(data, n + 1, n, true, false, 500, PURCHASE_PRIORITY);
      settle("reset-backlog", data);
      ResetRun measured = runResets(service, data, n, "measured");
      long rollovers = Datasets.count(data, "SELECT count(*) FROM grants WHERE type = 'rollover'");
      check(rollovers == 2L * n, "reset-backlog: " + rollovers + " rollover grants for " + 2 * n + " users");
      List<String> broken = Datasets.journalViolations(data);
      check(broken.isEmpty(), "journal invariant broken after reset-backlog: " + broken);
      Window w = measured.window();
      long done = measured.reset();
      add(new Row("reset-backlog", "service", "users reset", done, w.seconds(), done / w.seconds(), Double.NaN,
          Double.NaN, Double.NaN, n - done, 0, w.serviceCpuSeconds(), w.peakRssMb(), w.dbCpuSeconds(),
          service.forked() ? w.selfCpuSeconds() : Double.NaN, w.otherCpuSeconds(), w.hostBusyPercent(), ""));
      notes.add(String.format(Locale.ROOT, "reset-backlog: %d due users (each with a 500-credit purchase grant, so each "
          + "reset journals a rollover_out, opens a rollover grant and a free grant) reset by one admin run in %.1f s, "
          + "with the service's reset settings at their defaults%s. Measured on a warm service: a first cohort of "
          + "%d due users was reset before, in %.1f s (%.0f/s, the service compiling its reset path meanwhile), "
          + "then the database settled.", n, w.seconds(),
          o.serviceEnv.isEmpty() ? " (RESET_BATCH_SIZE 1000, RESET_CONCURRENCY 128, RESET_BATCH_PAUSE 20 ms)"
              : " and " + o.serviceEnv, n, warm.window().seconds(), warm.reset() / warm.window().seconds()));
    }
  }

  /** One admin run of the resets: its window and how many users it reset. */
  private record ResetRun(Window window, long reset) {
  }

  /** Resets the {@code due} users due now with one admin run, and checks that none is left due. */
  private ResetRun runResets(Service service, DatabaseUrl data, long due, String label) throws Exception {
    String dueSql = "SELECT count(*) FROM users WHERE next_quota_reset <= now()";
    long before = Datasets.count(data, dueSql);
    check(before == due, "reset-backlog (" + label + "): " + before + " users due instead of " + due);
    say("reset-backlog (" + label + "): POST /v1/admin/resets/run for " + due + " due users (RESET_BATCH_SIZE, "
        + "RESET_CONCURRENCY and RESET_BATCH_PAUSE at their defaults unless --service-env sets them)");
    ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-reset-progress");
      t.setDaemon(true);
      return t;
    });
    long started = System.nanoTime();
    progress.scheduleAtFixedRate(() -> {
      try {
        long left = Datasets.count(data, dueSql);
        say("reset-backlog (" + label + "): " + (due - left) + " of " + due + " reset after "
            + Math.round((System.nanoTime() - started) / 1e9) + " s");
      } catch (RuntimeException e) {
        // progress only
      }
    }, 15, 15, TimeUnit.SECONDS);
    Window w = new Window(service.pid(), db, -1);
    HttpResponse<String> answer = null;
    String failure = null;
    try {
      answer = Service.post(service.port(), "/v1/admin/resets/run", Service.ADMIN_TOKEN, "{}", Duration.ofMinutes(16));
    } catch (IOException e) {
      failure = e.toString();
    }
    long left = Datasets.count(data, dueSql);
    boolean answered = answer != null && answer.statusCode() == 200;
    if (!answered) {
      // the run answers after at most 15 minutes (HttpVerticle); the scanner's drain goes on behind it
      failure = failure != null ? failure : answer.statusCode() + " " + answer.body();
      say("reset-backlog (" + label + "): the admin run did not answer 200 (" + failure + "); waiting for the "
          + "drain to finish");
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(60);
      while (left > 0 && System.nanoTime() < deadline) {
        Service.sleep(1000);
        left = Datasets.count(data, dueSql);
      }
    }
    w.stop();
    progress.shutdownNow();
    long reset = answered ? new JsonObject(answer.body()).getLong("reset", -1L) : due - left;
    check(answered, "reset-backlog (" + label + "): POST /v1/admin/resets/run did not answer 200 for " + due
        + " due users: " + failure);
    check(reset == due, "reset-backlog (" + label + "): the run reset " + reset + " users, " + due + " were due");
    check(left == 0, "reset-backlog (" + label + "): " + left + " users still due after the run");
    if (!answered) {
      notes.add("reset-backlog (" + label + "): the admin run did not answer 200 (" + failure + "); its time is when "
          + "polling (every second) found no user due any more.");
    }
    say(String.format(Locale.ROOT, "reset-backlog (%s): %d users reset in %.1f s (%.0f/s)", label, reset,
        w.seconds(), reset / w.seconds()));
    return new ResetRun(w, Math.max(0, reset));
  }

  // ---------------------------------------------------------------- outbox-drain

  /**
   * outbox-drain: 2n mirrored grants are queued while no relay runs, then a service with the relay drains them. The
   * first n warm the relay and the fake Stripe (both JVMs compile their code meanwhile, as the HTTP scenarios do in
   * their warm-up); the last n are measured, between their first and last delivered_at. The cold rate of the first n
   * goes into the notes.
   */
  private void outboxDrain() throws Exception {
    DatabaseUrl data = db.fresh("outbox");
    int n = o.outboxRows;
    int total = 2 * n;
    say("Migrating " + data.database() + " and loading " + n + " users with a Stripe customer");
    Migrations.apply(data);
    Datasets.users(data, n, false, true, 0, PURCHASE_PRIORITY);
    try (Service fill = startService("outbox-fill", data, Map.of());
         LoadGenerator gen = new LoadGenerator("127.0.0.1", fill.port(), o.concurrency)) {
      say("outbox-drain: " + total + " purchase grants (two per user) through the API while no relay runs "
          + "(no STRIPE_API_KEY)");
      LoadGenerator.Result r = gen.run(seq -> new LoadGenerator.Request(HttpMethod.POST,
          "/v1/users/u" + (seq % n + 1) + "/grants",
          "{\"operationId\":\"ob-" + runId + "-" + (seq + 1) + "\",\"type\":\"purchase\",\"amount\":100}",
          Service.SERVICE_TOKEN), o.concurrency, Double.MAX_VALUE, total);
      check(r.ok.get() == total, "outbox-drain: " + r.ok.get() + " of " + total + " grants written: "
          + r.errorSummary());
      notes.add(String.format(Locale.ROOT, "outbox-drain: filling the outbox took %d mirrored grants in %.1f s "
          + "(%.0f/s, p50 %.2f ms, p99 %.2f ms) with the relay off.", r.ok.get(), r.seconds, r.ok.get() / r.seconds,
          ms(r.latencies.percentileMs(50)), ms(r.latencies.percentileMs(99))));
    }
    long pending = Datasets.count(data, "SELECT count(*) FROM stripe_outbox WHERE status = 'pending'");
    check(pending == total, "outbox-drain: " + pending + " pending outbox rows, expected " + total);
    try (FakeStripe stripe = FakeStripe.start()) {
      stripe.latency(o.stripeLatencyMs);
      Map<String, String> relay = Map.of("STRIPE_API_KEY", "sk_test_bench", "STRIPE_API_BASE", stripe.baseUrl(),
          "STRIPE_MAX_REQUESTS_PER_SECOND", Integer.toString(o.stripeRps),
          "STRIPE_CONCURRENCY", Integer.toString(o.stripeConcurrency));
      String statusSql = "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'dead'), "
          + "count(*) FILTER (WHERE status = 'delivered') FROM stripe_outbox";
      try (Service service = startService("outbox-drain", data, relay)) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120 + (long) (10.0 * total
            / Math.min(o.stripeRps, Math.max(1, o.stripeConcurrency * 1000.0 / Math.max(1, o.stripeLatencyMs)))));
        long[] counts = Datasets.longs(data, statusSql);
        long lastSay = System.nanoTime();
        Window w = null;
        while (counts[0] > 0 && System.nanoTime() < deadline) {
          Service.sleep(100);
          counts = Datasets.longs(data, statusSql);
          if (w == null && counts[2] >= n) {
            w = new Window(service.pid(), db, -1);
            say("outbox-drain: " + counts[2] + " of " + total + " delivered, the relay is warm: measuring");
          }
          if (System.nanoTime() - lastSay > TimeUnit.SECONDS.toNanos(15)) {
            say("outbox-drain: " + counts[2] + " of " + total + " delivered");
            lastSay = System.nanoTime();
          }
        }
        if (w == null) {
          check(false, "outbox-drain: the warm-up's " + n + " rows were not delivered by the deadline");
          return;
        }
        w.stop();
        long delivered = counts[2];
        long dead = counts[1];
        // the rows delivered after the first n, in delivery order: the measured ones
        String spanSql = "WITH d AS (SELECT delivered_at, row_number() OVER (ORDER BY delivered_at, outbox_id) AS i "
            + "FROM stripe_outbox WHERE status = 'delivered') SELECT coalesce(extract(epoch FROM max(delivered_at) "
            + "- min(delivered_at)), 0) FROM d WHERE i %s " + n;
        double span = Datasets.seconds(data, spanSql.formatted(">"));
        double coldSpan = Datasets.seconds(data, spanSql.formatted("<="));
        long measured = delivered - n;
        long retries = Datasets.count(data, "SELECT coalesce(sum(attempts), 0) - count(*) FROM stripe_outbox");
        int atStripe = stripe.creditGrants().size();
        int connections = ProcStats.tcpConnectionsTo(stripe.port());
        int calls = stripe.requests().size();
        check(counts[0] == 0, "outbox-drain: " + counts[0] + " rows still pending at the deadline");
        check(delivered == total, "outbox-drain: " + delivered + " of " + total + " rows delivered (" + dead
            + " dead)");
        check(atStripe == total, "outbox-drain: the fake Stripe holds " + atStripe + " credit grants for " + total
            + " rows");
        double rate = measured > 1 && span > 0 ? (measured - 1) / span : Double.NaN;
        double coldRate = n > 1 && coldSpan > 0 ? (n - 1) / coldSpan : Double.NaN;
        add(new Row("outbox-drain", "service", "rows delivered", measured, span, rate, Double.NaN, Double.NaN,
            Double.NaN, dead, 0, w.serviceCpuSeconds(), w.peakRssMb(), w.dbCpuSeconds(),
            service.forked() ? w.selfCpuSeconds() : Double.NaN, w.otherCpuSeconds(), w.hostBusyPercent(), ""));
        double ideal = Math.min(o.stripeRps, o.stripeConcurrency * 1000.0 / Math.max(1, o.stripeLatencyMs));
        notes.add(String.format(Locale.ROOT, "outbox-drain: fake Stripe answering after %d ms, STRIPE_MAX_REQUESTS_PER_SECOND "
            + "%d, STRIPE_CONCURRENCY %d: the ceiling is min(rps, concurrency / latency) = %.0f rows/s; measured %.0f "
            + "rows/s (%.0f%% of it) between the first and the last delivered_at of the last %d rows; the first %d, "
            + "the warm-up (the just-started service and the fake Stripe compiling their code meanwhile), went at "
            + "%.0f rows/s (%.0f%%); %d resends; the fake holds %d grants (one per row: no duplicate). The relay "
            + "made %d calls over %s TCP connections (counted in /proc/net/tcp, closed ones included for a minute). "
            + "Client CPU includes the fake Stripe.", o.stripeLatencyMs, o.stripeRps, o.stripeConcurrency, ideal, rate,
            100 * rate / ideal, measured, n, coldRate, 100 * coldRate / ideal, retries, atStripe, calls,
            connections < 0 ? "n/a" : Integer.toString(connections)));
      }
    }
  }

  // ---------------------------------------------------------------- report

  private String machineFacts() {
    StringBuilder out = new StringBuilder();
    out.append("Run ").append(runId).append(" on ")
        .append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append("\n\n");
    out.append("- Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs (nproc), ")
        .append(cpuModel()).append(", ").append(memTotal()).append(" RAM, ")
        .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version")).append('\n');
    out.append("- JDK: ").append(System.getProperty("java.vm.name")).append(' ')
        .append(System.getProperty("java.runtime.version")).append('\n');
    out.append("- Database: ").append(db.describe()).append('\n');
    out.append("- pgbench: ").append(pgbench == null ? "not used" : PgBench.version(pgbench)).append('\n');
    out.append("- Settings: ").append(o.describe()).append('\n');
    out.append("- Load average when the run started: ").append(loadAverage()).append('\n');
    return out.toString();
  }

  private String legend() {
    return """

        How to read it: `count` is what completed in the measured time (HTTP requests, pgbench transactions, users \
        reset, outbox rows delivered); `throughput/s` counts answered requests (2xx and 402); latencies are measured \
        by the client from sending to the last byte of the answer (pgbench: per transaction, from its -l log); \
        `errors` are answers other than 2xx/402 and transport failures (pgbench: failed transactions; reset: due \
        users not reset; outbox: dead rows); `402s` are refused consumptions, a correct answer kept apart. CPU \
        columns are CPU seconds during the measured time: the service process (%s), the PostgreSQL server \
        processes, and the client (this harness's JVM: the load generator, and the fake Stripe in outbox-drain; \
        pgbench rows: the pgbench process). `other CPU s` is what the cores spent on anything else (other users of \
        the machine, the kernel): far from 0, the machine was not quiet and the numbers are low. `host busy %%` is the \
        share of all cores in use. Ratio rows divide the \
        service's throughput and latencies by pgbench's for the same SQL at the same concurrency.
        """.formatted(o.inProcess ? "in-process: the whole JVM, load generator included" : "java -jar, from /proc/<pid>/stat; peak RSS sampled from /proc/<pid>/status every 100 ms");
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return f[0] + " " + f[1] + " " + f[2] + " (1, 5, 15 min)";
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return System.getProperty("os.arch");
  }

  private static String memTotal() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return String.format(Locale.ROOT, "%.1f GiB", kb / 1024.0 / 1024.0);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return "? GiB";
  }

  /** Runs the benchmark with {@code options} on {@code server}, printing to {@code log}; for the smoke test. */
  static Report run(Options options, DbServer server, PrintStream log) {
    return new Bench(options, server, log).run();
  }
}
