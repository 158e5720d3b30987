package io.creditledger.drill;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.domain.EventType;
import io.creditledger.domain.RolloverShares;
import io.creditledger.support.ContractCheck;
import io.creditledger.support.FakeStripe;
import io.creditledger.support.SqlSession;
import io.creditledger.support.StripeFixtures;
import io.creditledger.support.TestDatabase;
import io.creditledger.support.WebhookReceiver;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault drill: the service runs as a separate process under a mixed concurrent load (grants, consumptions,
 * holds with their captures and releases,
 * revokes, referrals, Stripe webhooks, resets on a short cycle) against the fake Stripe, while the drill kills
 * it with SIGKILL again and again, makes Stripe fail (5xx, timeouts, 429 bursts, a full outage) and restarts
 * PostgreSQL once. Clients retry unanswered requests with the same operationId, as real clients do. Afterwards
 * it checks that every request answered 2xx took effect exactly once, that the audit is clean, that every
 * mirrored grant reached Stripe exactly once by Idempotency-Key, and that the service rode out the database
 * restart by itself.
 *
 * <p>{@code drill/run.sh [--duration S] [--kills N] [--users N] [--workers N] [--seed N]}; the test suite runs
 * a short version ({@code DrillTest}).
 */
public final class Drill {
  static final String SERVICE_TOKEN = "drill-service-token-0123456789";
  static final String ADMIN_TOKEN = "drill-admin-token-0123456789ab";
  static final String WEBHOOK_SECRET = "whsec_drill_0123456789";
  static final String METER = "drill_credits";

  /** How long and how hard. {@code jar} null runs {@code io.creditledger.Main} from this JVM's classpath. */
  public record Options(int durationSeconds, int kills, int users, int workers, long seed, String jar, Path workDir) {
    public static Options parse(String[] args) {
      Map<String, String> m = new HashMap<>();
      for (int i = 0; i + 1 < args.length; i += 2) {
        m.put(args[i].replaceFirst("^--", ""), args[i + 1]);
      }
      return new Options(Integer.parseInt(m.getOrDefault("duration", "180")),
          Integer.parseInt(m.getOrDefault("kills", "15")), Integer.parseInt(m.getOrDefault("users", "40")),
          Integer.parseInt(m.getOrDefault("workers", "12")), Long.parseLong(m.getOrDefault("seed", "1")),
          m.getOrDefault("jar", "target/credit-ledger.jar"), Path.of(m.getOrDefault("work-dir", "target/drill")));
    }
  }

  /** What a request came to: applied (2xx), refused (4xx), or unknown (never answered despite retries). */
  enum Outcome { APPLIED, REFUSED, UNKNOWN }

  record Op(String kind, String operationId, String userId, long amount, String extra, Outcome outcome, int status) {
  }

  /** The drill's findings: {@code problems} empty means it passed. */
  public record Report(List<String> problems, Map<String, Integer> counts, int kills, boolean databaseRestarted,
                       int readyDuringOutage) {
    public String summary() {
      return "kills=" + kills + ", database restarted=" + databaseRestarted + ", /ready 503s while it was down="
          + readyDuringOutage + ", requests=" + counts + ", problems=" + problems.size()
          + (problems.isEmpty() ? "" : "\n  " + String.join("\n  ", problems.subList(0, Math.min(50, problems.size()))));
    }
  }

  private final Options options;
  private final Random random;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private final List<Op> ops = new CopyOnWriteArrayList<>();
  private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
  private final List<String> appliedGrants = new CopyOnWriteArrayList<>();
  private final List<String[]> appliedPurchases = new CopyOnWriteArrayList<>();
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicInteger kills = new AtomicInteger();
  private final AtomicInteger readyDuringOutage = new AtomicInteger();
  private volatile boolean databaseRestarted;
  private int port;

  private Drill(Options options) {
    this.options = options;
    this.random = new Random(options.seed());
  }

  public static void main(String[] args) throws Exception {
    Report report = run(Options.parse(args));
    System.out.println(report.summary());
    System.exit(report.problems().isEmpty() ? 0 : 1);
  }

  public static Report run(Options options) throws Exception {
    return new Drill(options).drill();
  }

  private Report drill() throws Exception {
    Files.createDirectories(options.workDir());
    Path pgData = Files.createTempDirectory(options.workDir(), "pg");
    int pgPort = freePort();
    port = freePort();
    EmbeddedPostgres pg = startPostgres(pgData, pgPort);
    DatabaseUrl db = new DatabaseUrl("localhost", pgPort, "postgres", "postgres", null);
    try (FakeStripe stripe = FakeStripe.start(); WebhookReceiver receiver = new WebhookReceiver()) {
      Map<String, String> env = serviceEnvironment(db, stripe);
      Path log = options.workDir().resolve("service.log");
      Files.deleteIfExists(log);
      ServiceProcess service = new ServiceProcess(options.jar(), env, log, port);
      try {
        service.start();
        service.awaitReady(Duration.ofSeconds(90));
        subscribe(receiver);
        List<String> users = createUsers();
        ExecutorService load = Executors.newFixedThreadPool(options.workers());
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.durationSeconds());
        for (int w = 0; w < options.workers(); w++) {
          long seed = random.nextLong();
          load.submit(() -> work(users, new Random(seed), end));
        }
        pg = chaos(service, stripe, pg, pgData, pgPort, end);
        running.set(false);
        load.shutdown();
        if (!load.awaitTermination(5, TimeUnit.MINUTES)) {
          problems.add("load workers did not stop");
        }
        stripe.clearFaults();
        stripe.outage(false);
        // the checks need a ledger that stands still: restart the service without its reset timer
        service.close();
        Map<String, String> quiet = new HashMap<>(env);
        quiet.put("RESET_SCAN_INTERVAL", "PT24H");
        service = new ServiceProcess(options.jar(), quiet, log, port);
        service.start();
        service.awaitReady(Duration.ofSeconds(90));
        awaitOutboxDrained(db, Duration.ofSeconds(120));
        awaitEventsDelivered(db, Duration.ofSeconds(120));
        verify(db, stripe);
        verifyEvents(db, receiver);
      } finally {
        service.close();
      }
    } finally {
      pg.close();
    }
    Map<String, Integer> counts = new HashMap<>();
    for (Op op : ops) {
      counts.merge(op.kind() + ":" + op.outcome().name().toLowerCase(), 1, Integer::sum);
    }
    return new Report(List.copyOf(problems), counts, kills.get(), databaseRestarted, readyDuringOutage.get());
  }

  private Map<String, String> serviceEnvironment(DatabaseUrl db, FakeStripe stripe) {
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", "postgresql://postgres@localhost:" + db.port() + "/postgres");
    env.put("HTTP_PORT", Integer.toString(port));
    env.put("HTTP_HOST", "127.0.0.1");
    env.put("DATA_DIR", options.workDir().resolve("data").toString());
    env.put("LEDGER_API_TOKEN", SERVICE_TOKEN);
    env.put("LEDGER_ADMIN_TOKEN", ADMIN_TOKEN);
    env.put("STRIPE_API_KEY", "sk_test_drill");
    env.put("STRIPE_API_BASE", stripe.baseUrl());
    env.put("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET);
    env.put("STRIPE_TIMEOUT", "PT1S");
    env.put("STRIPE_BACKOFF_BASE", "PT0.1S");
    env.put("STRIPE_BACKOFF_MAX", "PT2S");
    env.put("STRIPE_MAX_ATTEMPTS", "1000");
    env.put("STRIPE_OUTBOX_POLL_INTERVAL", "PT0.5S");
    env.put("STRIPE_OUTBOX_LEASE", "PT3S");
    env.put("STRIPE_MAX_REQUESTS_PER_SECOND", "200");
    env.put("STRIPE_METER_EVENT_NAME", METER);
    env.put("RESET_CYCLE", "PT10S");
    env.put("RESET_SCAN_INTERVAL", "PT1S");
    env.put("RESET_CLAIM_LEASE", "PT3S");
    env.put("FREE_GRANT_CREDITS", "100");
    env.put("VERTICLE_INSTANCES", "2");
    env.put("DATABASE_POOL_SIZE", "8");
    env.put("LOG_LEVEL", "WARN");
    env.put("LOW_BALANCE_THRESHOLD", "50");
    env.put("EVENTS_POLL_INTERVAL", "PT0.5S");
    env.put("WEBHOOK_TIMEOUT", "PT2S");
    env.put("WEBHOOK_BACKOFF_BASE", "PT0.1S");
    env.put("WEBHOOK_BACKOFF_MAX", "PT1S");
    env.put("WEBHOOK_MAX_ATTEMPTS", "100");
    return env;
  }

  // ---- chaos

  /** Kills, Stripe faults and one database restart, spread over the load; returns the (restarted) database. */
  private EmbeddedPostgres chaos(ServiceProcess service, FakeStripe stripe, EmbeddedPostgres pg, Path pgData,
                                 int pgPort, long end) throws Exception {
    long start = System.nanoTime();
    long span = end - start;
    List<Long> killAt = new ArrayList<>();
    for (int i = 0; i < options.kills(); i++) {
      killAt.add(start + (long) (span * (0.05 + 0.85 * (i + random.nextDouble() * 0.8) / options.kills())));
    }
    long faultsAt = start + span / 5;
    long outageAt = start + span * 2 / 5;
    long restartDbAt = start + span * 3 / 5;
    boolean faultsOn = false;
    boolean outageDone = false;
    int nextKill = 0;
    while (System.nanoTime() < end) {
      long now = System.nanoTime();
      if (!faultsOn && now >= faultsAt) {
        stripe.randomFaults(0.2, 0.1, 1500, options.seed());
        stripe.rateLimitNext(8, 1);
        faultsOn = true;
      }
      if (!outageDone && now >= outageAt) {
        stripe.outage(true);
        Thread.sleep(3000);
        stripe.outage(false);
        stripe.rateLimitNext(5, 1);
        outageDone = true;
      }
      if (!databaseRestarted && now >= restartDbAt) {
        pg = restartDatabase(service, pg, pgData, pgPort);
      }
      if (nextKill < killAt.size() && now >= killAt.get(nextKill)) {
        service.kill();
        kills.incrementAndGet();
        Thread.sleep(random.nextInt(300));
        service.start();
        service.awaitReady(Duration.ofSeconds(90));
        nextKill++;
      }
      Thread.sleep(50);
    }
    while (nextKill < killAt.size()) {
      service.kill();
      kills.incrementAndGet();
      service.start();
      service.awaitReady(Duration.ofSeconds(90));
      nextKill++;
    }
    return pg;
  }

  /**
   * Stops PostgreSQL under the running service for a few seconds. The service must stay up and answer /ready
   * with 503 meanwhile, then recover by itself when the database is back.
   */
  private EmbeddedPostgres restartDatabase(ServiceProcess service, EmbeddedPostgres pg, Path pgData, int pgPort)
      throws Exception {
    pg.close();
    long downUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    while (System.nanoTime() < downUntil) {
      int status = service.ready();
      if (status == 503) {
        readyDuringOutage.incrementAndGet();
      } else if (status == -1 || status == 200) {
        problems.add("while the database was down /ready answered " + status + " (expected 503)");
      }
      Thread.sleep(200);
    }
    EmbeddedPostgres again = startPostgres(pgData, pgPort);
    databaseRestarted = true;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (service.ready() != 200) {
      if (!service.alive()) {
        problems.add("the service died while the database restarted");
        break;
      }
      if (System.nanoTime() > deadline) {
        problems.add("the service did not recover within 60 s of the database coming back");
        break;
      }
      Thread.sleep(200);
    }
    return again;
  }

  private static EmbeddedPostgres startPostgres(Path dataDir, int port) throws IOException {
    return EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false).setPort(port)
        .setPGStartupWait(Duration.ofSeconds(60)).start();
  }

  /**
   * The host's endpoint, for every event type, before anything happens; its first answers are failures, so
   * deliveries are retried (with their ids) as well as cut short by the kills.
   */
  private void subscribe(WebhookReceiver receiver) {
    JsonArray all = new JsonArray();
    for (EventType type : EventType.values()) {
      all.add(type.wire());
    }
    Answer a = call("PUT", "/v1/admin/webhook-endpoints/drill", new JsonObject().put("url", receiver.url())
        .put("events", all), ADMIN_TOKEN, null);
    if (a.status() != 201) {
      throw new IllegalStateException("cannot register the webhook endpoint: " + a);
    }
    receiver.secret(new JsonObject(a.body()).getString("secret"));
    receiver.answer(500, 503, 500);
  }

  // ---- load

  private List<String> createUsers() {
    List<String> users = new ArrayList<>();
    for (int i = 0; i < options.users(); i++) {
      String userId = "drill-" + i;
      JsonObject body = new JsonObject().put("email", userId + "@example.com");
      if (i % 2 == 0) {
        body.put("stripeCustomerId", "cus_drill" + i);
      }
      Answer a = call("PUT", "/v1/users/" + userId, body, SERVICE_TOKEN, null);
      if (a.status() / 100 != 2) {
        throw new IllegalStateException("cannot create " + userId + ": " + a);
      }
      users.add(userId);
    }
    return users;
  }

  private void work(List<String> users, Random r, long end) {
    try {
      while (running.get() && System.nanoTime() < end) {
        String user = users.get(r.nextInt(users.size()));
        int dice = r.nextInt(100);
        if (dice < 24) {
          consume(user, 1 + r.nextInt(40));
        } else if (dice < 30) {
          holdThenCaptureOrRelease(user, r);
        } else if (dice < 50) {
          grant(user, r.nextInt(4) == 0 ? "admin" : "purchase", 10 + r.nextInt(300));
        } else if (dice < 56) {
          revoke(r);
        } else if (dice < 61) {
          int other = (users.indexOf(user) + 1 + r.nextInt(users.size() - 1)) % users.size();
          refer(user, users.get(other), 5 + r.nextInt(20));
        } else if (dice < 76) {
          purchaseWebhook(user, 10 + r.nextInt(200));
        } else if (dice < 81) {
          refundWebhook(r);
        } else if (dice < 83) {
          call("POST", "/v1/admin/resets/run", new JsonObject(), ADMIN_TOKEN, null);
        } else {
          Answer a = call("GET", "/v1/users/" + user + "/balance", null, SERVICE_TOKEN, null);
          if (a.status() / 100 != 2 && a.status() != -1 && a.status() != 503) {
            problems.add("balance read answered " + a);
          }
        }
      }
    } catch (RuntimeException e) {
      problems.add("load worker failed: " + e);
    }
  }

  private String nextId(String prefix) {
    return prefix + "-" + sequence.incrementAndGet();
  }

  private void consume(String user, long amount) {
    String op = nextId("c");
    Answer a = retrying("POST", "/v1/users/" + user + "/consume",
        new JsonObject().put("operationId", op).put("amount", amount), SERVICE_TOKEN);
    record("consume", op, user, amount, null, a);
  }

  /** A hold, then its capture (less than, all of, or a little more than was held) or its release. */
  private void holdThenCaptureOrRelease(String user, Random r) {
    String hold = nextId("h");
    long amount = 1 + r.nextInt(40);
    Answer placed = retrying("POST", "/v1/users/" + user + "/holds",
        new JsonObject().put("operationId", hold).put("amount", amount), SERVICE_TOKEN);
    record("hold", hold, user, amount, null, placed);
    if (placed.status() / 100 != 2) {
      return;
    }
    if (r.nextInt(4) == 0) {
      Answer released = retrying("POST", "/v1/users/" + user + "/holds/" + hold + "/release", new JsonObject(),
          SERVICE_TOKEN);
      record("release", hold, user, amount, null, released);
      return;
    }
    String capture = nextId("hc");
    long cost = Math.max(1, amount - 10 + r.nextInt(15));
    Answer captured = retrying("POST", "/v1/users/" + user + "/holds/" + hold + "/capture",
        new JsonObject().put("operationId", capture).put("amount", cost), SERVICE_TOKEN);
    record("capture", capture, user, cost, hold, captured);
  }

  private void grant(String user, String type, long amount) {
    String op = nextId("g");
    Answer a = retrying("POST", "/v1/users/" + user + "/grants",
        new JsonObject().put("operationId", op).put("type", type).put("amount", amount), ADMIN_TOKEN);
    record("grant", op, user, amount, type, a);
    if (a.status() / 100 == 2) {
      appliedGrants.add(op);
    }
  }

  private void revoke(Random r) {
    if (appliedGrants.isEmpty()) {
      return;
    }
    String op = appliedGrants.get(r.nextInt(appliedGrants.size()));
    Answer a = retrying("POST", "/v1/grants/" + op + "/revoke", new JsonObject().put("reason", "drill"), ADMIN_TOKEN);
    record("revoke", op, null, 0, null, a);
  }

  private void refer(String referrer, String referred, long credits) {
    String op = nextId("r");
    Answer a = retrying("POST", "/v1/referrals", new JsonObject().put("operationId", op).put("referrerId", referrer)
        .put("referredId", referred).put("credits", credits), SERVICE_TOKEN);
    record("referral", op, referrer, credits, referred, a);
  }

  private void purchaseWebhook(String user, long credits) {
    String op = nextId("w");
    String paymentIntent = "pi_" + op.replace("-", "");
    JsonObject session = StripeFixtures.fixture("checkout.session").put("payment_status", "paid")
        .put("status", "complete").put("payment_intent", paymentIntent)
        .put("metadata", new JsonObject().put("userId", user).put("credits", Long.toString(credits))
            .put("operationId", op));
    Answer a = webhook(StripeFixtures.event("checkout.session.completed", session, System.currentTimeMillis() / 1000));
    record("purchase", op, user, credits, paymentIntent, a);
    if (a.status() / 100 == 2) {
      appliedPurchases.add(new String[] {op, paymentIntent, Long.toString(credits)});
    }
  }

  private void refundWebhook(Random r) {
    if (appliedPurchases.isEmpty()) {
      return;
    }
    String[] purchase = appliedPurchases.get(r.nextInt(appliedPurchases.size()));
    JsonObject charge = StripeFixtures.fixture("charge").put("id", "ch_" + purchase[1])
        .put("payment_intent", purchase[1]).put("amount", 1000).put("amount_refunded", 1000).put("refunded", true);
    Answer a = webhook(StripeFixtures.event("charge.refunded", charge, System.currentTimeMillis() / 1000));
    record("refund", purchase[0], null, 0, null, a);
  }

  /** Delivers one event, retrying it (same event id, fresh signature) like Stripe does until it gets a 2xx. */
  private Answer webhook(JsonObject event) {
    Answer last = null;
    for (int attempt = 0; attempt < 200 && running.get() || attempt == 0; attempt++) {
      String payload = event.encode();
      String signature = StripeFixtures.signature(payload, WEBHOOK_SECRET, System.currentTimeMillis() / 1000);
      last = call("POST", "/v1/stripe/webhook", payload, null, signature);
      if (last.status() != -1 && last.status() < 500) {
        return last;
      }
      pause();
    }
    return last;
  }

  /** A client's retries: the same request (same operationId) until it gets a 2xx or a 4xx. */
  private Answer retrying(String method, String path, JsonObject body, String token) {
    Answer last = null;
    for (int attempt = 0; attempt < 200; attempt++) {
      last = call(method, path, body, token, null);
      if (last.status() != -1 && last.status() < 500) {
        return last;
      }
      pause();
    }
    return last;
  }

  private static void pause() {
    try {
      Thread.sleep(150);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void record(String kind, String op, String user, long amount, String extra, Answer a) {
    Outcome outcome = a.status() / 100 == 2 ? Outcome.APPLIED
        : a.status() >= 400 && a.status() < 500 ? Outcome.REFUSED : Outcome.UNKNOWN;
    if (a.status() == 409 && a.body().contains("operation_conflict")) {
      problems.add(kind + " " + op + ": a retry with the same content was called a conflict: " + a.body());
    }
    if (a.status() == 400 || a.status() == 401 || a.status() == 404 && !kind.equals("referral")) {
      problems.add(kind + " " + op + " answered " + a);
    }
    ops.add(new Op(kind, op, user, amount, extra, outcome, a.status()));
  }

  record Answer(int status, String body) {
  }

  private Answer call(String method, String path, Object body, String token, String signature) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(20));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (signature != null) {
      b.header("Stripe-Signature", signature);
    }
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(
          body instanceof JsonObject j ? j.encode() : body.toString()));
    }
    try {
      HttpResponse<String> r = ContractCheck.checked(http.send(b.build(), HttpResponse.BodyHandlers.ofString()));
      return new Answer(r.statusCode(), r.body());
    } catch (IOException e) {
      return new Answer(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(-1, "interrupted");
    }
  }

  // ---- verification

  private void awaitOutboxDrained(DatabaseUrl db, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (number(db, "SELECT count(*) FROM stripe_outbox WHERE status <> 'delivered'") > 0) {
      if (System.nanoTime() > deadline) {
        problems.add("the outbox did not drain: " + number(db, "SELECT count(*) FROM stripe_outbox WHERE status <> 'delivered'")
            + " rows left");
        return;
      }
      Thread.sleep(200);
    }
  }

  private void awaitEventsDelivered(DatabaseUrl db, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    String left = "SELECT (SELECT count(*) FROM events WHERE dispatched_at IS NULL)"
        + " + (SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered')";
    while (number(db, left) > 0) {
      if (System.nanoTime() > deadline) {
        problems.add("events were not all delivered: " + number(db, left) + " left");
        return;
      }
      Thread.sleep(200);
    }
  }

  /**
   * Kill -9 loses no event: every committed event reached the host, signed, by its id; the host received none that
   * was not committed; and each grant the load made raised exactly one grant.created.
   */
  private void verifyEvents(DatabaseUrl db, WebhookReceiver receiver) throws Exception {
    java.util.Set<String> received = new java.util.HashSet<>();
    for (WebhookReceiver.Delivery d : receiver.received()) {
      received.add(d.id());
      if (!d.signatureValid()) {
        problems.add("webhook " + d.id() + " arrived with a signature that does not verify");
      }
    }
    try (SqlSession c = TestDatabase.open(db)) {
      java.util.Set<String> committed = new java.util.HashSet<>();
      for (SqlSession.Row r : c.rows("SELECT event_id FROM events")) {
        committed.add(r.text(1));
      }
      if (committed.isEmpty()) {
        problems.add("no event was raised");
      }
      for (String id : committed) {
        if (!received.contains(id)) {
          problems.add("event " + id + " was committed but never delivered");
        }
      }
      for (String id : received) {
        if (!committed.contains(id)) {
          problems.add("the host received event " + id + ", which no committed change raised");
        }
      }
      for (Op op : ops) {
        if (op.outcome() != Outcome.APPLIED) {
          continue;
        }
        List<String> grants = switch (op.kind()) {
          case "grant", "purchase" -> List.of(op.operationId());
          case "referral" -> List.of(op.operationId() + "-referrer", op.operationId() + "-referred");
          default -> List.of();
        };
        for (String grant : grants) {
          long n = c.number("SELECT count(*) FROM events WHERE type = 'grant.created' AND data->>'operationId' = ?",
              grant);
          if (n != 1) {
            problems.add("grant " + grant + " raised " + n + " grant.created events");
          }
        }
      }
      long orphans = c.number("SELECT count(*) FROM events e WHERE e.type = 'grant.created' AND NOT EXISTS "
          + "(SELECT 1 FROM grants g WHERE g.operation_id = e.data->>'operationId')");
      if (orphans > 0) {
        problems.add(orphans + " grant.created events name no grant");
      }
    }
  }

  private void verify(DatabaseUrl db, FakeStripe stripe) throws Exception {
    try (SqlSession c = TestDatabase.open(db)) {
      for (Op op : ops) {
        if (op.outcome() != Outcome.APPLIED) {
          continue;
        }
        switch (op.kind()) {
          case "grant", "purchase" -> expectGrant(c, op.operationId(), op.userId(), op.amount());
          case "consume" -> {
            long taken = c.number("SELECT coalesce(-sum(delta), 0) FROM journal WHERE kind = 'consume' AND operation_id = ?",
                op.operationId());
            if (taken != op.amount()) {
              problems.add("consume " + op.operationId() + " answered 2xx for " + op.amount() + " but the journal took "
                  + taken);
            }
            if (c.number("SELECT count(*) FROM operations WHERE kind = 'consume' AND operation_id = ?", op.operationId()) != 1) {
              problems.add("consume " + op.operationId() + " answered 2xx but is not recorded once");
            }
          }
          case "hold" -> {
            if (c.number("SELECT count(*) FROM holds WHERE hold_id = ? AND amount = " + op.amount(), op.operationId()) != 1) {
              problems.add("hold " + op.operationId() + " answered 2xx but is not stored once");
            }
          }
          case "release" -> {
            if (c.number("SELECT count(*) FROM holds WHERE hold_id = ? AND state = 'released'", op.operationId()) != 1) {
              problems.add("release of " + op.operationId() + " answered 2xx but the hold is not released");
            }
          }
          case "capture" -> {
            long taken = c.number("SELECT coalesce(-sum(delta), 0) FROM journal WHERE kind = 'consume' AND operation_id = ?",
                op.operationId());
            if (taken != op.amount()) {
              problems.add("capture " + op.operationId() + " answered 2xx for " + op.amount() + " but the journal took "
                  + taken);
            }
            if (c.number("SELECT count(*) FROM holds WHERE hold_id = ? AND state = 'captured' AND captured = "
                + op.amount() + " AND capture_operation_id = '" + op.operationId() + "'", op.extra()) != 1) {
              problems.add("capture " + op.operationId() + " answered 2xx but hold " + op.extra() + " is not captured by it");
            }
          }
          case "referral" -> {
            expectGrant(c, op.operationId() + "-referrer", op.userId(), op.amount());
            expectGrant(c, op.operationId() + "-referred", op.extra(), op.amount());
          }
          case "revoke", "refund" -> expectRevoked(c, op);
          default -> {
          }
        }
      }
      // no consumption or capture was applied twice, answered or not
      for (SqlSession.Row r : c.rows("SELECT o.operation_id, (o.request::jsonb->>'amount')::bigint, "
          + "coalesce((SELECT -sum(delta) FROM journal j WHERE j.kind = 'consume' AND j.operation_id = o.operation_id), 0) "
          + "FROM operations o WHERE o.kind IN ('consume', 'capture')")) {
        if (r.number(2) != r.number(3)) {
          problems.add("consume " + r.text(1) + " of " + r.number(2) + " moved " + r.number(3) + " credits");
        }
      }
    }
    Answer audit = call("GET", "/v1/admin/audit", null, ADMIN_TOKEN, null);
    if (audit.status() != 200 || !new JsonObject(audit.body()).getBoolean("ok")) {
      problems.add("the audit is not clean: " + audit);
    }
    verifyStripe(db, stripe);
  }

  /**
   * A full revoke or refund that was answered 2xx left the grant revoked and took back every credit it still had,
   * wherever they were: on the grant itself, or in the rollovers its credits moved into.
   */
  private void expectRevoked(SqlSession c, Op op) {
    String id = op.operationId();
    if (c.number("SELECT count(*) FROM grants WHERE operation_id = ? AND closed_by = 'revoke'", id) != 1) {
      problems.add(op.kind() + " of " + id + " answered 2xx but the grant is not revoked");
      return;
    }
    long remaining = c.number("SELECT greatest(balance, 0) FROM grants WHERE operation_id = ?", id)
        + stillInRollovers(c, c.number("SELECT grant_id FROM grants WHERE operation_id = ?", id));
    if (remaining != 0) {
      problems.add(op.kind() + " of " + id + " answered 2xx but " + remaining + " of its credits are still spendable");
    }
  }

  /** The grant's credits still in the rollovers they moved into, following the chain to its open end. */
  private static long stillInRollovers(SqlSession c, long grantId) {
    List<RolloverShares.Level> chain = new ArrayList<>();
    long via = grantId;
    long end = -1;
    while (true) {
      long rollover = c.number("SELECT coalesce((SELECT rollover_grant_id FROM rollover_sources WHERE source_grant_id = "
          + via + "), -1)");
      if (rollover < 0) {
        break;
      }
      List<RolloverShares.Share> shares = new ArrayList<>();
      int index = -1;
      for (SqlSession.Row r : c.rows("SELECT source_grant_id, credits, revoked FROM rollover_sources "
          + "WHERE rollover_grant_id = " + rollover + " ORDER BY position")) {
        if (r.number(1) == via) {
          index = shares.size();
        }
        shares.add(new RolloverShares.Share(r.number(2), r.number(3)));
      }
      chain.add(new RolloverShares.Level(shares, index));
      via = rollover;
      end = rollover;
    }
    if (end < 0) {
      return 0;
    }
    long endRemaining = c.number("SELECT CASE WHEN closed_at IS NULL THEN balance ELSE 0 END FROM grants WHERE grant_id = "
        + end);
    return RolloverShares.remaining(chain, endRemaining);
  }

  private void expectGrant(SqlSession c, String op, String user, long amount) {
    List<SqlSession.Row> rows = c.rows("SELECT user_id, principal FROM grants WHERE operation_id = ?", op);
    if (rows.isEmpty()) {
      problems.add("grant " + op + " answered 2xx but does not exist");
      return;
    }
    SqlSession.Row g = rows.get(0);
    if (!g.text(1).equals(user) || g.number(2) != amount) {
      problems.add("grant " + op + " is " + g.text(1) + "/" + g.number(2) + ", expected " + user + "/" + amount);
    }
  }

  /**
   * Every create the outbox holds reached Stripe exactly once by its Idempotency-Key; each mirrored grant's Stripe
   * grant exists (voided where the ledger voided it); Stripe holds nothing else but the voided mirrors that
   * partial revokes replaced; and the usage Stripe's meter holds is what mirrored users consumed.
   */
  private void verifyStripe(DatabaseUrl db, FakeStripe stripe) {
    Map<String, String> mirrored = new HashMap<>();
    java.util.Set<String> createKeys = new java.util.HashSet<>();
    try (SqlSession c = TestDatabase.open(db)) {
      for (String key : c.texts("SELECT idempotency_key FROM stripe_outbox WHERE action = 'create_credit_grant'")) {
        createKeys.add(key);
        if (stripe.createCount(key) != 1) {
          problems.add("outbox create " + key + " was made " + stripe.createCount(key) + " times at Stripe");
        }
      }
      for (SqlSession.Row r : c.rows("SELECT operation_id, stripe_grant_id, stripe_voided_at IS NOT NULL "
          + "FROM grants g WHERE stripe_customer_id IS NOT NULL")) {
        String op = r.text(1);
        mirrored.put(op, r.text(2));
        if (stripe.createCount("ledger-create-" + op) != 1) {
          problems.add("mirrored grant " + op + " was created " + stripe.createCount("ledger-create-" + op)
              + " times at Stripe");
        }
        JsonObject remote = r.text(2) == null ? null : stripe.creditGrant(r.text(2));
        if (remote == null) {
          problems.add("mirrored grant " + op + " has Stripe id " + r.text(2) + " that Stripe does not know");
        } else if (r.flag(3) != (remote.getValue("voided_at") != null)) {
          problems.add("grant " + op + " is " + (r.flag(3) ? "" : "not ") + "voided here but "
              + (remote.getValue("voided_at") != null ? "" : "not ") + "at Stripe");
        }
      }
    }
    verifyUsage(db, stripe);
    for (JsonObject remote : stripe.creditGrants()) {
      JsonObject metadata = remote.getJsonObject("metadata");
      String op = metadata.getString("operationId");
      boolean current = remote.getString("id").equals(mirrored.get(op));
      boolean replaced = remote.getValue("voided_at") != null && createKeys.contains(metadata.getString("mirrorKey"));
      if (!current && !replaced) {
        problems.add("Stripe holds credit grant " + remote.getString("id") + " for " + op + " that the ledger does not");
      }
    }
  }

  /** Every consumption (or capture) of a mirrored user reached Stripe as exactly one meter event, of its amount. */
  private void verifyUsage(DatabaseUrl db, FakeStripe stripe) {
    try (SqlSession c = TestDatabase.open(db)) {
      long consumes = c.number("SELECT count(*) FROM operations o JOIN users u ON u.user_id = o.user_id "
          + "WHERE o.kind IN ('consume', 'capture') AND u.stripe_customer_id IS NOT NULL");
      if (stripe.meterEvents().size() != consumes) {
        problems.add(consumes + " consumptions of mirrored users but " + stripe.meterEvents().size()
            + " meter events at Stripe");
      }
      for (SqlSession.Row r : c.rows("SELECT u.stripe_customer_id, coalesce(-sum(j.delta), 0) "
          + "FROM users u LEFT JOIN journal j ON j.user_id = u.user_id AND j.kind = 'consume' "
          + "WHERE u.stripe_customer_id IS NOT NULL GROUP BY 1")) {
        long reported = stripe.meterTotal(r.text(1), METER);
        if (reported != r.number(2)) {
          problems.add("customer " + r.text(1) + " consumed " + r.number(2) + " credits but Stripe's meter "
              + "holds " + reported);
        }
      }
    }
  }

  private static long number(DatabaseUrl db, String sql) {
    try (SqlSession c = TestDatabase.open(db)) {
      return c.number(sql);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
