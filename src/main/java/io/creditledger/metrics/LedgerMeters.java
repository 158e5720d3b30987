package io.creditledger.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * The ledger's own meters, beside the ones Vert.x keeps for its HTTP server, pools and event bus, in one Prometheus
 * registry that {@code GET /metrics} scrapes. Counters are looked up once per label set and kept.
 */
public final class LedgerMeters {
  public static final String[] OUTBOX_STATUSES = {"pending", "delivered", "dead"};

  private final PrometheusMeterRegistry registry;
  private final Map<String, Counter> operations = new ConcurrentHashMap<>();
  private final Map<String, Counter> stripeRequests = new ConcurrentHashMap<>();
  private final Counter consumed;
  private final Counter retries;
  private final Timer resetDuration;
  private final Map<String, AtomicLong> outboxRows = new ConcurrentHashMap<>();
  private final AtomicLong oldestPendingSeconds = new AtomicLong();
  private final AtomicLong resetDue = new AtomicLong();
  private final AtomicLong auditProblems = new AtomicLong();

  private LedgerMeters(PrometheusMeterRegistry registry) {
    this.registry = registry;
    consumed = Counter.builder("ledger_credits_consumed").description("Credits consumed (consumptions and captures)")
        .register(registry);
    retries = Counter.builder("ledger_transaction_retries")
        .description("Transactions run again after a failure a retry can cure").register(registry);
    resetDuration = Timer.builder("reset_duration").description("How long one run of due resets took")
        .register(registry);
    for (String status : OUTBOX_STATUSES) {
      AtomicLong rows = new AtomicLong();
      outboxRows.put(status, rows);
      Gauge.builder("outbox_rows", rows, AtomicLong::get).description("Stripe outbox rows by status")
          .tag("status", status).register(registry);
    }
    Gauge.builder("outbox_oldest_pending_seconds", oldestPendingSeconds, AtomicLong::get)
        .description("Age of the oldest pending Stripe outbox row").register(registry);
    Gauge.builder("reset_due_users", resetDue, AtomicLong::get).description("Users whose cycle has ended, not reset")
        .register(registry);
    Gauge.builder("audit_problems", auditProblems, AtomicLong::get).description("Problems the last audit found")
        .register(registry);
    for (String outcome : new String[] {"delivered", "retry", "dead"}) {
      stripeRequest(outcome, 0);
    }
  }

  /** The registries of the Vert.x instances {@link #instrumentedVertx} made (several per JVM in tests). */
  private static final Map<Vertx, PrometheusMeterRegistry> REGISTRIES = Collections.synchronizedMap(new WeakHashMap<>());
  private static final AtomicLong INSTANCES = new AtomicLong();

  /** {@link #instrumentedVertx(int)} with Vert.x's default number of event loops. */
  public static Vertx instrumentedVertx() {
    return instrumentedVertx(VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE);
  }

  /** A Vert.x whose HTTP server, pools and event bus report into a Prometheus registry of its own. */
  public static Vertx instrumentedVertx(int eventLoops) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setEventLoopPoolSize(eventLoops)
            .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
                .setRegistryName("credit-ledger-" + INSTANCES.incrementAndGet())))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
    REGISTRIES.put(vertx, registry);
    return vertx;
  }

  /**
   * The meters of {@code vertx}'s registry when {@link #instrumentedVertx} made it, else of a registry of their own
   * (a host's Vert.x: the ledger's meters only).
   */
  public static LedgerMeters of(Vertx vertx) {
    PrometheusMeterRegistry registry = REGISTRIES.get(vertx);
    return new LedgerMeters(registry != null ? registry : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** The registry in Prometheus's text format. */
  public String scrape() {
    return registry.scrape();
  }

  /** @param outcome {@code ok}, {@code refused} (a 4xx answer) or {@code failed} */
  public void operation(String op, String outcome) {
    operations.computeIfAbsent(op + '/' + outcome, k -> Counter.builder("ledger_operations")
        .description("Balance-changing operations answered, by operation and outcome")
        .tag("op", op).tag("outcome", outcome).register(registry)).increment();
  }

  public void consumed(long credits) {
    consumed.increment(credits);
  }

  public void transactionRetry() {
    retries.increment();
  }

  /** @param outcome {@code delivered}, {@code retry} or {@code dead} */
  public void stripeRequest(String outcome) {
    stripeRequest(outcome, 1);
  }

  private void stripeRequest(String outcome, int n) {
    stripeRequests.computeIfAbsent(outcome, k -> Counter.builder("stripe_requests")
        .description("Calls the Stripe relay made, by outcome").tag("outcome", outcome).register(registry))
        .increment(n);
  }

  public void resetRun(Duration took) {
    resetDuration.record(took);
  }

  public void auditProblems(int problems) {
    auditProblems.set(problems);
  }

  /**
   * The write path's gauges: {@code ledger_write_queue} (operations waiting for a batch) and
   * {@code ledger_write_batches} (batch transactions in flight), read from the writer when scraped.
   */
  public void writePath(IntSupplier waiting, IntSupplier inFlight) {
    // a gauge holds its state object weakly, and nothing else holds these suppliers
    Gauge.builder("ledger_write_queue", waiting, IntSupplier::getAsInt).strongReference(true)
        .description("Balance-changing operations waiting for a write batch").register(registry);
    Gauge.builder("ledger_write_batches", inFlight, IntSupplier::getAsInt).strongReference(true)
        .description("Write batch transactions in flight").register(registry);
  }

  /** What the database holds, as last read by the meters' poll. */
  public void databaseState(Map<String, Long> outboxByStatus, long oldestPending, long resetDueUsers) {
    outboxRows.forEach((status, rows) -> rows.set(outboxByStatus.getOrDefault(status, 0L)));
    oldestPendingSeconds.set(oldestPending);
    resetDue.set(resetDueUsers);
  }
}
