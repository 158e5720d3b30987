package io.creditledger.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The harness's options; {@link #parse} reads the command line of {@code bench/run.sh}. */
final class Options {
  static final List<String> SCENARIOS = List.of("consume-spread", "consume-hot", "grants", "balance", "hold-capture", "reset-backlog",
      "outbox-drain");

  static final String USAGE = """
      Usage: bench/run.sh [options]
        --smoke                 small data, ~2 s per scenario: checks that everything runs
        --duration SECONDS      measured time per HTTP scenario and per pgbench anchor (default 30; smoke 2)
        --warmup SECONDS        unmeasured load before each HTTP scenario (default 20; smoke 0.5)
        --jit-settle SECONDS    then more warm-up, 5 s at a time, until the service's JIT compiler threads use under
                                5%% of a core, for at most this long (default 180; 0: no more; smoke 0)
        --concurrency N         requests in flight, and pgbench clients (default 32; smoke 8)
        --open-loop-connections N  connections of the open-loop run at half load, enough that requests due on
                                schedule do not wait for one (default 4 x --concurrency)
        --scenarios a,b,c       any of %s (default: all, in that order)
        --out FILE              also write the results as Markdown to FILE
        --users N               users of the HTTP scenarios (default 10000; smoke 200)
        --reset-users N         due users of reset-backlog (default 100000; smoke 500)
        --outbox-rows N         measured outbox rows of outbox-drain, after as many warming the relay up
                                (default 5000; smoke 100)
        --stripe-latency MS     the fake Stripe's answer delay in outbox-drain (default 50)
        --stripe-rps N          STRIPE_MAX_REQUESTS_PER_SECOND in outbox-drain (default 1000)
        --stripe-concurrency N  STRIPE_CONCURRENCY in outbox-drain (default 16)
        --service-env K=V       extra setting for every service start (repeatable), e.g. DATABASE_POOL_SIZE=32
        --in-process            deploy the ledger in this JVM instead of java -jar (CPU/RSS then cover the JVM)
        --no-pgbench            skip the pgbench anchor rows
        --jar PATH              the service jar (default target/credit-ledger.jar)
        --work-dir DIR          logs and service working directories (default bench/out)
        --keep-databases        with DATABASE_URL: keep the bench_* databases afterwards
      Environment: DATABASE_URL=postgresql://user:pass@host:port/db runs on that server (databases are created
      beside the named one); unset, an embedded PostgreSQL is started.
      """.formatted(String.join(",", SCENARIOS));

  boolean smoke;
  double durationSeconds = 30;
  double warmupSeconds = 20;
  double jitSettleSeconds = 180;
  int concurrency = 32;
  /** 0: four times {@link #concurrency} */
  int openLoopConnections;
  List<String> scenarios = new ArrayList<>(SCENARIOS);
  Path out;
  int users = 10_000;
  int resetUsers = 100_000;
  int outboxRows = 5_000;
  long stripeLatencyMs = 50;
  int stripeRps = 1000;
  int stripeConcurrency = 16;
  Map<String, String> serviceEnv = new LinkedHashMap<>();
  boolean inProcess;
  boolean pgbench = true;
  Path jar = Path.of("target/credit-ledger.jar");
  Path workDir = Path.of("bench/out");
  Path scriptDir = Path.of("bench/pgbench");
  boolean keepDatabases;

  /** The small settings of --smoke. */
  Options smoke() {
    smoke = true;
    durationSeconds = 2;
    warmupSeconds = 0.5;
    jitSettleSeconds = 0;
    concurrency = 8;
    users = 200;
    resetUsers = 500;
    outboxRows = 100;
    return this;
  }

  static Options parse(String[] args) {
    Options o = new Options();
    List<String> list = Arrays.asList(args);
    if (list.contains("--smoke")) {
      o.smoke();
    }
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--smoke" -> { }
        case "--duration" -> o.durationSeconds = positive(a, args, ++i);
        case "--warmup" -> o.warmupSeconds = nonNegative(a, args, ++i);
        case "--jit-settle" -> o.jitSettleSeconds = nonNegative(a, args, ++i);
        case "--concurrency" -> o.concurrency = (int) positive(a, args, ++i);
        case "--open-loop-connections" -> o.openLoopConnections = (int) positive(a, args, ++i);
        case "--scenarios" -> o.scenarios = scenarios(value(a, args, ++i));
        case "--out" -> o.out = Path.of(value(a, args, ++i));
        case "--users" -> o.users = (int) positive(a, args, ++i);
        case "--reset-users" -> o.resetUsers = (int) positive(a, args, ++i);
        case "--outbox-rows" -> o.outboxRows = (int) positive(a, args, ++i);
        case "--stripe-latency" -> o.stripeLatencyMs = (long) nonNegative(a, args, ++i);
        case "--stripe-rps" -> o.stripeRps = (int) positive(a, args, ++i);
        case "--stripe-concurrency" -> o.stripeConcurrency = (int) positive(a, args, ++i);
        case "--service-env" -> {
          String kv = value(a, args, ++i);
          int eq = kv.indexOf('=');
          if (eq <= 0) {
            throw new IllegalArgumentException("--service-env takes NAME=VALUE, got " + kv);
          }
          o.serviceEnv.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        case "--in-process" -> o.inProcess = true;
        case "--no-pgbench" -> o.pgbench = false;
        case "--jar" -> o.jar = Path.of(value(a, args, ++i));
        case "--work-dir" -> o.workDir = Path.of(value(a, args, ++i));
        case "--keep-databases" -> o.keepDatabases = true;
        case "-h", "--help" -> throw new IllegalArgumentException("");
        default -> throw new IllegalArgumentException("Unknown option " + a);
      }
    }
    return o;
  }

  private static List<String> scenarios(String csv) {
    List<String> wanted = new ArrayList<>();
    for (String s : csv.split(",")) {
      String name = s.trim();
      if (name.isEmpty()) {
        continue;
      }
      if (!SCENARIOS.contains(name)) {
        throw new IllegalArgumentException("Unknown scenario " + name + "; known: " + String.join(",", SCENARIOS));
      }
      wanted.add(name);
    }
    if (wanted.isEmpty()) {
      throw new IllegalArgumentException("--scenarios names none");
    }
    // always in the canonical order: the HTTP scenarios share one dataset, and grants must come after consumes
    return SCENARIOS.stream().filter(wanted::contains).toList();
  }

  private static String value(String option, String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  private static double positive(String option, String[] args, int i) {
    double v = nonNegative(option, args, i);
    if (v <= 0) {
      throw new IllegalArgumentException(option + " must be positive");
    }
    return v;
  }

  private static double nonNegative(String option, String[] args, int i) {
    String v = value(option, args, i);
    try {
      double d = Double.parseDouble(v);
      if (d < 0) {
        throw new IllegalArgumentException(option + " must not be negative");
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " takes a number, got " + v);
    }
  }

  int openLoopConnections() {
    return openLoopConnections > 0 ? openLoopConnections : 4 * concurrency;
  }

  boolean wants(String scenario) {
    return scenarios.contains(scenario);
  }

  String describe() {
    return "concurrency " + concurrency + " (open loop: " + openLoopConnections() + " connections), "
        + durationSeconds + " s measured after " + warmupSeconds
        + " s warm-up per HTTP scenario" + (jitSettleSeconds > 0 ? " (then until the JIT is quiet, at most "
        + jitSettleSeconds + " s more)" : "") + ", " + users + " users, " + resetUsers + " due users, " + outboxRows
        + " outbox rows" + (smoke ? " (smoke)" : "") + (inProcess ? ", service in-process" : ", service forked")
        + (serviceEnv.isEmpty() ? "" : ", service env " + serviceEnv);
  }
}
