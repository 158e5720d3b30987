package io.creditledger.support;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake of the parts of the Stripe API the ledger uses (Billing credit grants, Billing meter events, payment
 * intent creation and retrieval), served over real HTTP on 127.0.0.1 so the real stripe-java client can talk
 * to it, with injectable faults.
 *
 * <p>Faithful where it matters for a client: form-encoded bracketed parameters, Stripe-shaped objects and
 * error bodies, {@code Request-Id} headers, bearer-key authentication and Stripe's idempotency rules (a key
 * replays the first processed result with {@code Idempotent-Replayed: true}, 4xx results of requests that
 * reached the endpoint such as a 402 decline included; the same key with other parameters is a 400
 * {@code idempotency_error}; validation failures and unprocessed faults store nothing; a key is forgotten 24
 * hours after its first use, by the fake's clock, and then processes afresh).
 *
 * <p>Test hooks change Stripe "behind the ledger's back", as a person in the Dashboard would:
 * {@link #putCreditGrant}, {@link #voidCreditGrant}, {@link #setCreditGrantAmount},
 * {@link #setCreditGrantExpiry}, {@link #deleteCreditGrant}; {@link #declineNextPaymentIntents} makes the next
 * payment attempts fail like declined cards.
 *
 * <p>Faults apply to requests whose path starts with {@code /v1/}. Precedence per request: {@link #outage}
 * first, then the queue filled by {@link #failNext}, {@link #rateLimitNext}, {@link #slowNext} and
 * {@link #dropNext} (one entry per request, FIFO, so {@code failNext(1,500); slowNext(1,100)} fails the
 * next request and slows the one after), then {@link #randomFaults}. A fault is taken from the queue when
 * the request arrives (arrival order), and the request body is always read completely before the fault
 * acts.
 *
 * <p>Beware when counting requests: the JDK's {@code HttpURLConnection} (stripe-java's default transport, which
 * {@code FakeStripeTest} drives) silently re-sends a request once, POSTs included, when the connection is closed
 * before any response byte arrives, even with {@code setMaxNetworkRetries(0)}. One such call therefore meets two
 * {@link #dropNext} entries before it fails with {@code ApiConnectionException}; the re-sent request carries the
 * same {@code Idempotency-Key}. The ledger's transport ({@code java.net.http}) re-sends only a GET, and only on a
 * reused connection, so one of its POSTs meets one entry.
 *
 * <p>All request handling happens on one Vert.x event loop; the state the public methods read and change
 * is guarded by one lock, so tests may call them from any thread.
 */
public final class FakeStripe implements AutoCloseable {

  /** One request as received. {@code status} is the status answered, or 0 when the connection was dropped. */
  /** One request as received; {@code receivedAtNanos} is {@link System#nanoTime()} when its answer was decided. */
  public record Recorded(String method, String path, String idempotencyKey, JsonObject params, int status,
                         long receivedAtNanos) {}

  private static final String CREDIT_GRANTS = "/v1/billing/credit_grants";
  private static final Pattern CREDIT_GRANT = Pattern.compile("^/v1/billing/credit_grants/([^/]+)$");
  private static final Pattern CREDIT_GRANT_ACTION =
      Pattern.compile("^/v1/billing/credit_grants/([^/]+)/(void|expire)$");
  private static final Pattern PAYMENT_INTENT = Pattern.compile("^/v1/payment_intents/([^/]+)$");
  private static final Pattern CUSTOMER = Pattern.compile("^/v1/customers/([^/]+)$");
  private static final String PAYMENT_INTENTS = "/v1/payment_intents";
  private static final String METER_EVENTS = "/v1/billing/meter_events";
  private static final Set<String> CREATE_PARAMS = Set.of("amount", "applicability_config", "category", "customer",
      "customer_account", "effective_at", "expand", "expires_at", "metadata", "name", "priority");
  private static final Set<String> UPDATE_PARAMS = Set.of("expand", "expires_at", "metadata");
  private static final Set<String> LIST_PARAMS = Set.of("customer", "customer_account", "ending_before", "expand",
      "limit", "starting_after");
  private static final Set<String> METER_EVENT_PARAMS = Set.of("event_name", "expand", "identifier", "payload",
      "timestamp");
  /** The top-level fields of stripe-java 33.3.0's PaymentIntentCreateParams (its @SerializedName values). */
  private static final Set<String> INTENT_PARAMS = Set.of("allowed_payment_method_types", "amount",
      "amount_details", "application_fee_amount", "automatic_payment_methods", "capture_method", "confirm",
      "confirmation_method", "confirmation_token", "currency", "customer", "customer_account", "description",
      "error_on_requires_action", "excluded_payment_method_types", "expand", "hooks", "mandate", "mandate_data",
      "metadata", "off_session", "on_behalf_of", "payment_details", "payment_method", "payment_method_configuration",
      "payment_method_data", "payment_method_options", "payment_method_types", "radar_options", "receipt_email",
      "return_url", "setup_future_usage", "shipping", "statement_descriptor", "statement_descriptor_suffix",
      "transfer_data", "transfer_group", "use_stripe_sdk");
  /** Stripe's minimum charge amounts for the currencies tests use; other currencies are not checked. */
  private static final Map<String, Long> MINIMUM_CHARGE = Map.of("usd", 50L, "eur", 50L, "gbp", 30L);
  private static final Map<String, String> CURRENCY_SYMBOL = Map.of("usd", "$", "eur", "\u20ac", "gbp", "\u00a3");
  /** How long Stripe keeps an idempotency key, and enforces a meter event identifier's uniqueness. */
  private static final Duration RETENTION = Duration.ofHours(24);
  /** Meter event timestamps may be at most 35 days old ("calendar days", observed as 35 x 24 h) ... */
  private static final long METER_PAST_LIMIT_SECONDS = 35L * 24 * 3600;
  /** ... and at most 5 minutes ahead (clock drift allowance). */
  private static final long METER_FUTURE_LIMIT_SECONDS = 5L * 60;
  private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  private enum Kind { FAIL, RATE_LIMIT, SLOW, DROP_BEFORE, DROP_AFTER }

  private record Fault(Kind kind, int status, long amount) {
    boolean processes() {
      return kind == Kind.SLOW || kind == Kind.DROP_AFTER;
    }
  }

  private record Reply(int status, JsonObject body, Map<String, String> headers, String requestId) {
    static Reply of(int status, JsonObject body) {
      return new Reply(status, body, Map.of(), newRequestId());
    }

    Reply replayed() {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.put("Idempotent-Replayed", "true");
      h.put("Original-Request", requestId);
      return new Reply(status, body, h, newRequestId());
    }
  }

  /** What processing produced, and whether Stripe would keep it as the idempotent result. */
  private record Outcome(Reply reply, boolean store) {}

  /** A key's stored result; {@code firstUsed} (by the fake's clock) starts its 24 hours. */
  private record Stored(String method, String path, JsonObject params, Reply reply, Instant firstUsed) {}

  /** A card outcome {@link #declineNextPaymentIntents} queued: Stripe's error code, decline code and message. */
  private record Decline(String code, String declineCode, String message) {
    static Decline of(String declineCode) {
      return switch (declineCode) {
        case "authentication_required" -> new Decline("authentication_required", declineCode,
            "Your card was declined. This transaction requires authentication.");
        case "insufficient_funds" -> new Decline("card_declined", declineCode, "Your card has insufficient funds.");
        // these come with their own top-level code, as Stripe's test cards 4000000000000069/0127/0119 show
        case "expired_card" -> new Decline("expired_card", declineCode, "Your card has expired.");
        case "incorrect_cvc" -> new Decline("incorrect_cvc", declineCode, "Your card's security code is incorrect.");
        case "processing_error" -> new Decline("processing_error", declineCode,
            "An error occurred while processing your card. Try again in a little bit.");
        default -> new Decline("card_declined", declineCode, "Your card was declined.");
      };
    }
  }

  private final Vertx vertx;
  private final Clock clock;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicInteger connections = new AtomicInteger();
  private volatile int port;

  private final Object lock = new Object();
  // guarded by lock
  private final Deque<Fault> queued = new ArrayDeque<>();
  private boolean outage;
  private final Set<String> routeOutages = new HashSet<>();
  private long latencyMs;
  private Random random;
  private double randomFailureRate;
  private double randomSlowRate;
  private long randomSlowDelayMs;
  private final LinkedHashMap<String, JsonObject> grants = new LinkedHashMap<>();
  /** Insertion number per grant: the tie-break of the list order when {@code created} is equal. */
  private final Map<String, Long> grantSequence = new HashMap<>();
  private long nextGrantSequence;
  private final Map<String, Integer> createdUnderKey = new HashMap<>();
  private final Map<String, Stored> idempotent = new HashMap<>();
  private final List<Recorded> recorded = new ArrayList<>();
  private final Map<String, JsonObject> paymentIntents = new HashMap<>();
  private final Map<String, JsonObject> customers = new HashMap<>();
  private final List<String> createdIntents = new ArrayList<>();
  private final Deque<Decline> declines = new ArrayDeque<>();
  private final List<JsonObject> meterEvents = new ArrayList<>();
  /** Meter event identifier to when it was accepted, for the 24-hour uniqueness window. */
  private final Map<String, Instant> meterIdentifiers = new HashMap<>();

  private FakeStripe(Vertx vertx, Clock clock) {
    this.vertx = vertx;
    this.clock = clock;
  }

  /** Starts on its own Vert.x instance, on 127.0.0.1 and a random port, with the system clock. */
  public static FakeStripe start() {
    return start(Clock.systemUTC());
  }

  /** Starts with {@code clock} as the source of {@code created}, {@code updated}, {@code voided_at} etc. */
  public static FakeStripe start(Clock clock) {
    Vertx vertx = Vertx.vertx();
    FakeStripe fake = new FakeStripe(vertx, clock);
    try {
      HttpServer server = vertx.createHttpServer()
          .connectionHandler(connection -> fake.connections.incrementAndGet())
          .requestHandler(fake::handle)
          .listen(0, "127.0.0.1")
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      fake.port = server.actualPort();
      // warm the JSON codec and the form decoder, so a cold JVM does not stretch the first answer
      Form.decode("a[b][0]=1&c=2");
      new JsonObject().put("warm", new JsonObject().put("up", 1L)).encodePrettily();
      return fake;
    } catch (Exception e) {
      fake.close();
      throw new IllegalStateException("fake Stripe did not start", e);
    }
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** How many TCP connections clients have opened to the fake since it started. */
  public int connections() {
    return connections.get();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("fake Stripe did not stop", e);
      }
    }
  }

  // ---- faults -------------------------------------------------------------------------------------------

  /** The next {@code n} requests get {@code status} (4xx/5xx) with a Stripe error body, unprocessed. */
  public void failNext(int n, int status) {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("status must be an error status: " + status);
    }
    enqueue(n, new Fault(Kind.FAIL, status, 0));
  }

  /** The next {@code n} requests get 429 {@code rate_limit_error} with {@code Retry-After}, unprocessed. */
  public void rateLimitNext(int n, int retryAfterSeconds) {
    enqueue(n, new Fault(Kind.RATE_LIMIT, 429, retryAfterSeconds));
  }

  /** The next {@code n} requests are processed at once but answered only after {@code delayMs}. */
  public void slowNext(int n, long delayMs) {
    enqueue(n, new Fault(Kind.SLOW, 0, delayMs));
  }

  /**
   * The next {@code n} requests get their connection closed without any response; with
   * {@code afterProcessing} they are processed first (objects created, idempotent result stored).
   * Mind the JDK's silent re-send described in the class comment.
   */
  public void dropNext(int n, boolean afterProcessing) {
    enqueue(n, new Fault(afterProcessing ? Kind.DROP_AFTER : Kind.DROP_BEFORE, 0, 0));
  }

  /**
   * From now on each request that no other fault claims is, with probability {@code failureRate}, answered
   * 500 unprocessed, else with probability {@code slowRate} processed and answered after
   * {@code slowDelayMs}. The same seed and request sequence give the same faults. Both rates 0 turn it off.
   */
  public void randomFaults(double failureRate, double slowRate, long slowDelayMs, long seed) {
    if (failureRate < 0 || failureRate > 1 || slowRate < 0 || slowRate > 1) {
      throw new IllegalArgumentException("rates must be within [0, 1]");
    }
    synchronized (lock) {
      if (failureRate == 0 && slowRate == 0) {
        random = null;
      } else {
        random = new Random(seed);
        randomFailureRate = failureRate;
        randomSlowRate = slowRate;
        randomSlowDelayMs = slowDelayMs;
      }
    }
  }

  /** While on, every request gets 503 unprocessed (queued faults wait until it is off). */
  public void outage(boolean on) {
    synchronized (lock) {
      outage = on;
    }
  }

  /** While on, requests to this one route (say {@code POST /v1/billing/credit_grants}) answer 503; others work. */
  public void outage(String method, String path, boolean on) {
    synchronized (lock) {
      if (on) {
        routeOutages.add(method + " " + path);
      } else {
        routeOutages.remove(method + " " + path);
      }
    }
  }

  /** Every processed answer (not the fault answers) waits this long; added to a slow fault's delay. */
  public void latency(long ms) {
    synchronized (lock) {
      latencyMs = ms;
    }
  }

  /** Removes queued faults, random faults, the outage and the latency. */
  public void clearFaults() {
    synchronized (lock) {
      queued.clear();
      random = null;
      outage = false;
      routeOutages.clear();
      latencyMs = 0;
    }
  }

  private void enqueue(int n, Fault fault) {
    if (n < 0) {
      throw new IllegalArgumentException("n must not be negative: " + n);
    }
    synchronized (lock) {
      for (int i = 0; i < n; i++) {
        queued.addLast(fault);
      }
    }
  }

  private Fault takeFault(String method, String path) {
    synchronized (lock) {
      if (outage || routeOutages.contains(method + " " + path)) {
        return new Fault(Kind.FAIL, 503, 0);
      }
      Fault next = queued.pollFirst();
      if (next != null) {
        return next;
      }
      if (random != null) {
        if (random.nextDouble() < randomFailureRate) {
          return new Fault(Kind.FAIL, 500, 0);
        }
        if (random.nextDouble() < randomSlowRate) {
          return new Fault(Kind.SLOW, 0, randomSlowDelayMs);
        }
      }
      return null;
    }
  }

  // ---- state for assertions -----------------------------------------------------------------------------

  /** Every credit grant created, in creation order (copies, current state). */
  public List<JsonObject> creditGrants() {
    synchronized (lock) {
      List<JsonObject> all = new ArrayList<>();
      grants.values().forEach(g -> all.add(g.copy()));
      return all;
    }
  }

  public JsonObject creditGrant(String id) {
    synchronized (lock) {
      JsonObject grant = grants.get(id);
      return grant == null ? null : grant.copy();
    }
  }

  /** How many credit grants were created under this idempotency key (replays create none). */
  public int createCount(String idempotencyKey) {
    synchronized (lock) {
      return createdUnderKey.getOrDefault(idempotencyKey, 0);
    }
  }

  /** Every request received, in the order its answer (or drop) was decided. */
  public List<Recorded> requests() {
    synchronized (lock) {
      return List.copyOf(recorded);
    }
  }

  /** Makes {@code paymentIntent} (which must carry a string {@code id}) retrievable. */
  public void putPaymentIntent(JsonObject paymentIntent) {
    String id = paymentIntent.getString("id");
    if (id == null) {
      throw new IllegalArgumentException("payment intent needs an id");
    }
    synchronized (lock) {
      paymentIntents.put(id, paymentIntent.copy());
    }
  }

  /**
   * A customer {@code GET /v1/customers/{id}} answers, in Stripe's fixture shape, whose invoices (and off-session
   * charges that name no card) use {@code defaultPaymentMethod} (null: none). Customers are not modelled otherwise.
   */
  public void putCustomer(String id, String defaultPaymentMethod) {
    JsonObject customer = StripeFixtures.fixture("customer").put("id", id).put("created", now());
    JsonObject invoice = customer.getValue("invoice_settings") instanceof JsonObject j ? j : new JsonObject();
    customer.put("invoice_settings", invoice.put("default_payment_method", defaultPaymentMethod));
    synchronized (lock) {
      customers.put(id, customer);
    }
  }

  /** Every payment intent created through {@code POST /v1/payment_intents}, declined ones included (current state). */
  public List<JsonObject> paymentIntentsCreated() {
    synchronized (lock) {
      List<JsonObject> all = new ArrayList<>();
      createdIntents.forEach(id -> all.add(paymentIntents.get(id).copy()));
      return all;
    }
  }

  /**
   * The next {@code n} payment attempts (creates with {@code confirm=true} and a payment method) are declined
   * with {@code declineCode} (e.g. {@code generic_decline}, {@code insufficient_funds}): a 402 card_error, the
   * PaymentIntent left in {@code requires_payment_method}. {@code authentication_required} is Stripe's SCA
   * decline: off-session (or with {@code error_on_requires_action}) a 402 with code
   * {@code authentication_required}; on-session a 200 with the PaymentIntent in {@code requires_action}.
   */
  public void declineNextPaymentIntents(int n, String declineCode) {
    if (n < 0) {
      throw new IllegalArgumentException("n must not be negative: " + n);
    }
    if (declineCode == null || declineCode.isBlank()) {
      throw new IllegalArgumentException("decline code needed");
    }
    synchronized (lock) {
      for (int i = 0; i < n; i++) {
        declines.addLast(Decline.of(declineCode));
      }
    }
  }

  /** Every meter event accepted, in order (copies). */
  public List<JsonObject> meterEvents() {
    synchronized (lock) {
      List<JsonObject> all = new ArrayList<>();
      meterEvents.forEach(e -> all.add(e.copy()));
      return all;
    }
  }

  /** The sum of the accepted meter events' {@code payload[value]} for this customer and event name. */
  public long meterTotal(String customerId, String eventName) {
    synchronized (lock) {
      long total = 0;
      for (JsonObject event : meterEvents) {
        JsonObject payload = event.getJsonObject("payload");
        if (event.getString("event_name").equals(eventName)
            && customerId.equals(payload.getString("stripe_customer_id"))) {
          total += Long.parseLong(payload.getString("value"));
        }
      }
      return total;
    }
  }

  /** Forgets every idempotency key at once, as if 24 hours had passed for all of them. */
  public void forgetIdempotencyKeys() {
    synchronized (lock) {
      idempotent.clear();
    }
  }

  // ---- changes behind the ledger's back (as in the Stripe Dashboard) ----------------------------------------

  /**
   * Inserts a credit grant made in Stripe itself and returns the stored copy. {@code grant} must carry
   * {@code customer} (or {@code customer_account}) and {@code amount} in Stripe's shape
   * ({@code {type:"monetary", monetary:{currency, value}}}); fields it leaves out are filled: {@code id}
   * ({@code credgr_test_...}, the shape of Stripe's own test-mode ids), {@code object}, {@code created} and
   * {@code updated} (now), {@code livemode} (false), {@code effective_at} (= created, as a create without it
   * gets) and the rest from Stripe's fixture ({@code category} paid, {@code priority} 50, metered scope, nulls).
   * The fixture's placeholders (an expanded customer, {@code metadata {"undefined": ...}}) are not defaults.
   * A grant with an existing id replaces it and keeps its place in the list order.
   */
  public JsonObject putCreditGrant(JsonObject grant) {
    if (!(grant.getValue("customer") instanceof String) && !(grant.getValue("customer_account") instanceof String)) {
      throw new IllegalArgumentException("credit grant needs a customer (or customer_account) id");
    }
    if (!(grant.getValue("amount") instanceof JsonObject)) {
      throw new IllegalArgumentException("credit grant needs amount {type: monetary, monetary: {currency, value}}");
    }
    synchronized (lock) {
      long now = now();
      JsonObject fixture = StripeFixtures.fixture("billing.credit_grant");
      JsonObject stored = new JsonObject();
      fixture.fieldNames().forEach(name -> stored.put(name, fixture.getValue(name)));
      stored.put("id", "credgr_test_" + randomAlnum(32))
          .put("object", "billing.credit_grant")
          .put("customer", null)
          .put("metadata", new JsonObject())
          .put("livemode", false)
          .put("created", now)
          .put("updated", now);
      grant.copy().forEach(e -> stored.put(e.getKey(), e.getValue()));
      if (stored.getValue("effective_at") == null && !grant.containsKey("effective_at")) {
        stored.put("effective_at", stored.getValue("created"));
      }
      insertGrant(stored);
      return stored.copy();
    }
  }

  /** Voids the grant as the Dashboard would ({@code voided_at} = now); voiding a voided grant changes nothing. */
  public void voidCreditGrant(String id) {
    synchronized (lock) {
      JsonObject grant = existingGrant(id);
      if (grant.getValue("voided_at") == null) {
        long now = now();
        grant.put("voided_at", now).put("updated", now);
      }
    }
  }

  /**
   * Sets the grant's amount. Stripe has no way to change a grant's amount; this stands for a grant that
   * differs from the ledger's record however it came about.
   */
  public void setCreditGrantAmount(String id, long cents) {
    if (cents < 1) {
      throw new IllegalArgumentException("a credit grant's amount is at least 1: " + cents);
    }
    synchronized (lock) {
      JsonObject grant = existingGrant(id);
      grant.getJsonObject("amount").getJsonObject("monetary").put("value", cents);
      grant.put("updated", now());
    }
  }

  /** Sets the grant's {@code expires_at}; null removes the expiry. */
  public void setCreditGrantExpiry(String id, Long epochSeconds) {
    synchronized (lock) {
      existingGrant(id).put("expires_at", epochSeconds).put("updated", now());
    }
  }

  /** Removes the grant, so retrieving it is a 404 and lists leave it out (Stripe never deletes grants). */
  public void deleteCreditGrant(String id) {
    synchronized (lock) {
      existingGrant(id);
      grants.remove(id);
      grantSequence.remove(id);
    }
  }

  private JsonObject existingGrant(String id) {
    JsonObject grant = grants.get(id);
    if (grant == null) {
      throw new IllegalArgumentException("no credit grant " + id);
    }
    return grant;
  }

  /** Stores a grant; a new id gets the next insertion number, a known id keeps its own. */
  private void insertGrant(JsonObject grant) {
    String id = grant.getString("id");
    grants.put(id, grant);
    grantSequence.computeIfAbsent(id, k -> nextGrantSequence++);
  }

  // ---- request handling ---------------------------------------------------------------------------------

  private void handle(HttpServerRequest req) {
    String path = req.path();
    Fault fault = path.startsWith("/v1/") ? takeFault(req.method().name(), path) : null;
    req.body().onComplete(ar -> {
      if (ar.failed()) {
        req.connection().close();
        return;
      }
      try {
        handle(req, path, fault, ar.result());
      } catch (RuntimeException e) {
        Reply reply = Reply.of(500, error("api_error", "fake Stripe failed: " + e, null, null));
        record(req, path, null, new JsonObject(), 500);
        write(req, reply, 0);
      }
    });
  }

  private void handle(HttpServerRequest req, String path, Fault fault, Buffer body) {
    String method = req.method().name();
    String key = "POST".equals(method) ? trimToNull(req.getHeader("Idempotency-Key")) : null;
    JsonObject params;
    try {
      params = Form.decode("POST".equals(method) ? body.toString(StandardCharsets.UTF_8) : req.query());
    } catch (IllegalArgumentException e) {
      Reply reply = Reply.of(400, error("invalid_request_error", "Invalid request body: " + e.getMessage(),
          null, null));
      record(req, path, key, new JsonObject(), 400);
      write(req, reply, 0);
      return;
    }

    if (fault != null && !fault.processes()) {
      switch (fault.kind()) {
        case DROP_BEFORE -> {
          record(req, path, key, params, 0);
          req.connection().close();
        }
        case RATE_LIMIT -> {
          JsonObject err = error("rate_limit_error",
              "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
              "rate_limit", null);
          Reply reply = new Reply(429, err, Map.of("Retry-After", Long.toString(fault.amount())), newRequestId());
          record(req, path, key, params, 429);
          write(req, reply, 0);
        }
        default -> {
          Reply reply = Reply.of(fault.status(), faultError(fault.status()));
          record(req, path, key, params, fault.status());
          write(req, reply, 0);
        }
      }
      return;
    }

    Reply reply;
    long delay;
    synchronized (lock) {
      reply = process(method, path, key, params, req.getHeader("Authorization"));
      delay = latencyMs + (fault != null && fault.kind() == Kind.SLOW ? fault.amount() : 0);
    }
    if (fault != null && fault.kind() == Kind.DROP_AFTER) {
      record(req, path, key, params, 0);
      req.connection().close();
      return;
    }
    record(req, path, key, params, reply.status());
    if (key != null) {
      Map<String, String> headers = new LinkedHashMap<>(reply.headers());
      headers.put("Idempotency-Key", key);
      reply = new Reply(reply.status(), reply.body(), headers, reply.requestId());
    }
    write(req, reply, delay);
  }

  private void record(HttpServerRequest req, String path, String key, JsonObject params, int status) {
    synchronized (lock) {
      recorded.add(new Recorded(req.method().name(), path, key, params.copy(), status, System.nanoTime()));
    }
  }

  private void write(HttpServerRequest req, Reply reply, long delayMs) {
    Runnable answer = () -> {
      HttpServerResponse response = req.response();
      if (response.closed() || response.ended()) {
        return; // the client gave up (read timeout) before the late answer
      }
      response.setStatusCode(reply.status());
      response.putHeader("Content-Type", "application/json");
      response.putHeader("Request-Id", reply.requestId());
      reply.headers().forEach(response::putHeader);
      response.end(reply.body().encodePrettily());
    };
    if (delayMs > 0) {
      vertx.setTimer(delayMs, id -> answer.run());
    } else {
      answer.run();
    }
  }

  /** Authentication, idempotency and routing; called with the lock held. */
  private Reply process(String method, String path, String key, JsonObject params, String authorization) {
    if (authorization == null || authorization.isBlank()) {
      return Reply.of(401, error("invalid_request_error", "You did not provide an API key. You need to provide "
          + "your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
          null, null));
    }
    if (!authorization.startsWith("Bearer sk_")) {
      return Reply.of(401, error("invalid_request_error", "Invalid API Key provided: "
          + authorization.replaceFirst("^Bearer ", ""), "api_key_invalid", null));
    }
    if (key != null) {
      Stored stored = unexpired(key);
      if (stored != null) {
        if (stored.method().equals(method) && stored.path().equals(path) && stored.params().equals(params)) {
          return stored.reply().replayed();
        }
        return Reply.of(400, error("idempotency_error", "Keys for idempotent requests can only be used with the "
            + "same parameters they were first used with. Try using a key other than '" + key
            + "' if you meant to execute a different request.", null, null));
      }
    }
    Outcome outcome = route(method, path, key, params);
    if (key != null && outcome.store()) {
      idempotent.put(key, new Stored(method, path, params.copy(), outcome.reply(), clock.instant()));
    }
    return outcome.reply();
  }

  /**
   * The key's stored result, unless 24 hours have passed since its first use: Stripe then forgets the key
   * and a request with it is processed afresh (stored again, with a new 24 hours).
   */
  private Stored unexpired(String key) {
    Stored stored = idempotent.get(key);
    if (stored != null && !clock.instant().isBefore(stored.firstUsed().plus(RETENTION))) {
      idempotent.remove(key);
      return null;
    }
    return stored;
  }

  private Outcome route(String method, String path, String key, JsonObject params) {
    boolean post = "POST".equals(method);
    boolean get = "GET".equals(method);
    if (path.equals(CREDIT_GRANTS)) {
      if (post) {
        return createGrant(key, params);
      }
      if (get) {
        return listGrants(params);
      }
    }
    if (path.equals(METER_EVENTS) && post) {
      return createMeterEvent(params);
    }
    if (path.equals(PAYMENT_INTENTS) && post) {
      return createIntent(params);
    }
    Matcher m = CREDIT_GRANT_ACTION.matcher(path);
    if (m.matches() && post) {
      String id = pathSegment(m.group(1));
      return "void".equals(m.group(2)) ? voidGrant(id) : expireGrant(id);
    }
    m = CREDIT_GRANT.matcher(path);
    if (m.matches()) {
      String id = pathSegment(m.group(1));
      if (get) {
        JsonObject grant = grants.get(id);
        return grant == null ? grantMissing(id) : new Outcome(Reply.of(200, grant.copy()), true);
      }
      if (post) {
        return updateGrant(id, params);
      }
    }
    m = CUSTOMER.matcher(path);
    if (m.matches() && get) {
      String id = pathSegment(m.group(1));
      JsonObject customer = customers.get(id);
      if (customer == null) {
        return new Outcome(Reply.of(404, error("invalid_request_error", "No such customer: '" + id + "'",
            "resource_missing", "id")), true);
      }
      return new Outcome(Reply.of(200, customer.copy()), true);
    }
    m = PAYMENT_INTENT.matcher(path);
    if (m.matches() && get) {
      String id = pathSegment(m.group(1));
      JsonObject intent = paymentIntents.get(id);
      if (intent == null) {
        return new Outcome(Reply.of(404, error("invalid_request_error", "No such payment_intent: '" + id + "'",
            "resource_missing", "intent")), true);
      }
      return new Outcome(Reply.of(200, intent.copy()), true);
    }
    return new Outcome(Reply.of(404, error("invalid_request_error", "Unrecognized request URL (" + method + ": "
        + path + "). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
        null, null)), false);
  }

  private Outcome createGrant(String key, JsonObject params) {
    try {
      String unknown = unknownParam(params, "", CREATE_PARAMS);
      if (unknown != null) {
        throw new Invalid("parameter_unknown", unknown, "Received unknown parameter: " + unknown);
      }
      String customer = string(params, "customer", "customer", false);
      String customerAccount = string(params, "customer_account", "customer_account", false);
      if (customer == null && customerAccount == null) {
        throw missing("customer");
      }
      JsonObject amount = object(params, "amount", "amount", true);
      unknown = unknownParam(amount, "amount", Set.of("type", "monetary"));
      if (unknown != null) {
        throw new Invalid("parameter_unknown", unknown, "Received unknown parameter: " + unknown);
      }
      String type = string(amount, "type", "amount[type]", true);
      if (!"monetary".equals(type)) {
        throw invalidEnum("amount[type]", type, "monetary");
      }
      JsonObject monetary = object(amount, "monetary", "amount[monetary]", true);
      unknown = unknownParam(monetary, "amount[monetary]", Set.of("currency", "value"));
      if (unknown != null) {
        throw new Invalid("parameter_unknown", unknown, "Received unknown parameter: " + unknown);
      }
      String currency = string(monetary, "currency", "amount[monetary][currency]", true).toLowerCase();
      long value = integer(monetary, "value", "amount[monetary][value]", true);
      if (value < 1) {
        throw new Invalid("parameter_invalid_integer", "amount[monetary][value]",
            "This value must be greater than or equal to 1.");
      }
      String category = string(params, "category", "category", true);
      if (!"paid".equals(category) && !"promotional".equals(category)) {
        throw invalidEnum("category", category, "paid, promotional");
      }
      JsonObject applicability = object(params, "applicability_config", "applicability_config", true);
      JsonObject scope = object(applicability, "scope", "applicability_config[scope]", true);
      unknown = unknownParam(scope, "applicability_config[scope]", Set.of("price_type", "prices"));
      if (unknown != null) {
        throw new Invalid("parameter_unknown", unknown, "Received unknown parameter: " + unknown);
      }
      String priceType = string(scope, "price_type", "applicability_config[scope][price_type]", false);
      if (priceType != null && !"metered".equals(priceType)) {
        throw invalidEnum("applicability_config[scope][price_type]", priceType, "metered");
      }
      if (priceType == null && scope.getValue("prices") == null) {
        throw missing("applicability_config[scope][price_type]");
      }
      Long priority = integer(params, "priority", "priority", false);
      if (priority != null && (priority < 0 || priority > 100)) {
        throw new Invalid("parameter_invalid_integer", "priority",
            "This value must be between 0 and 100 (inclusive).");
      }
      Long expiresAt = integer(params, "expires_at", "expires_at", false);
      Long effectiveAt = integer(params, "effective_at", "effective_at", false);
      String name = string(params, "name", "name", false);
      JsonObject metadata = metadata(params);

      long now = now();
      JsonObject grant = new JsonObject()
          .put("id", "credgr_" + randomAlnum(24))
          .put("object", "billing.credit_grant")
          .put("amount", new JsonObject()
              .put("monetary", new JsonObject().put("currency", currency).put("value", value))
              .put("type", "monetary"))
          .put("applicability_config", new JsonObject().put("scope", scope.copy()))
          .put("category", category)
          .put("created", now)
          .put("customer", customer)
          .put("customer_account", customerAccount)
          .put("effective_at", effectiveAt == null ? now : effectiveAt)
          .put("expires_at", expiresAt)
          .put("livemode", false)
          .put("metadata", metadata)
          .put("name", name)
          .put("priority", priority == null ? 50L : priority)
          .put("test_clock", null)
          .put("updated", now)
          .put("voided_at", null);
      insertGrant(grant);
      if (key != null) {
        createdUnderKey.merge(key, 1, Integer::sum);
      }
      return new Outcome(Reply.of(200, grant.copy()), true);
    } catch (Invalid e) {
      return e.outcome();
    }
  }

  /**
   * Stripe's list: newest first, {@code limit} 1-100 (default 10), one of the cursors {@code starting_after}
   * (older than the cursor) or {@code ending_before} (the {@code limit} newer ones next to the cursor, still
   * newest first); voided grants included. Real Stripe documents {@code customer} as optional; the fake
   * requires it (or {@code customer_account}) on purpose, because the ledger only ever lists one customer's
   * grants and an unscoped list is always a bug there. {@code expand} is accepted and ignored.
   */
  private Outcome listGrants(JsonObject params) {
    try {
      rejectUnknown(params, "", LIST_PARAMS);
      String customer = string(params, "customer", "customer", false);
      String customerAccount = string(params, "customer_account", "customer_account", false);
      if (customer == null && customerAccount == null) {
        throw missing("customer");
      }
      int limit = limit(params);
      String startingAfter = string(params, "starting_after", "starting_after", false);
      String endingBefore = string(params, "ending_before", "ending_before", false);
      if (startingAfter != null && endingBefore != null) {
        throw new Invalid("parameters_exclusive", "ending_before",
            "You may only specify one of these parameters: ending_before, starting_after.");
      }
      Comparator<JsonObject> order = listOrder();
      List<JsonObject> matching = new ArrayList<>();
      grants.values().forEach(g -> {
        if ((customer == null || customer.equals(g.getString("customer")))
            && (customerAccount == null || customerAccount.equals(g.getString("customer_account")))) {
          matching.add(g);
        }
      });
      matching.sort(order);
      List<JsonObject> window = matching;
      if (startingAfter != null) {
        JsonObject cursor = cursor(startingAfter, "starting_after");
        window = matching.stream().filter(g -> order.compare(g, cursor) > 0).toList();
      } else if (endingBefore != null) {
        JsonObject cursor = cursor(endingBefore, "ending_before");
        List<JsonObject> newer = matching.stream().filter(g -> order.compare(g, cursor) < 0).toList();
        window = newer.subList(Math.max(0, newer.size() - limit), newer.size());
        return listReply(window, newer.size() > limit);
      }
      return listReply(window.subList(0, Math.min(limit, window.size())), window.size() > limit);
    } catch (Invalid e) {
      return e.outcome();
    }
  }

  /** Newest first; among equal {@code created} (one-second resolution), the grant stored later first. */
  private Comparator<JsonObject> listOrder() {
    return Comparator.<JsonObject>comparingLong(g -> g.getLong("created"))
        .thenComparingLong(g -> grantSequence.get(g.getString("id")))
        .reversed();
  }

  /** The grant a cursor names; an unknown one is refused (400 resource_missing naming the cursor: a guess). */
  private JsonObject cursor(String id, String param) throws Invalid {
    JsonObject grant = grants.get(id);
    if (grant == null) {
      throw new Invalid("resource_missing", param, "No such credit grant: '" + id + "'");
    }
    return grant;
  }

  private static Outcome listReply(List<JsonObject> page, boolean hasMore) {
    JsonArray data = new JsonArray();
    page.forEach(g -> data.add(g.copy()));
    JsonObject list = new JsonObject()
        .put("object", "list")
        .put("data", data)
        .put("has_more", hasMore)
        .put("url", CREDIT_GRANTS);
    return new Outcome(Reply.of(200, list), true);
  }

  private static int limit(JsonObject params) throws Invalid {
    Long limit = integer(params, "limit", "limit", false);
    if (limit == null) {
      return 10;
    }
    if (limit < 1) {
      throw new Invalid("parameter_invalid_integer", "limit", "This value must be greater than or equal to 1.");
    }
    if (limit > 100) {
      throw new Invalid("parameter_invalid_integer", "limit", "This value must be less than or equal to 100.");
    }
    return limit.intValue();
  }

  private Outcome voidGrant(String id) {
    JsonObject grant = grants.get(id);
    if (grant == null) {
      return grantMissing(id);
    }
    if (grant.getValue("voided_at") == null) {
      long now = now();
      grant.put("voided_at", now).put("updated", now);
    }
    return new Outcome(Reply.of(200, grant.copy()), true);
  }

  private Outcome expireGrant(String id) {
    JsonObject grant = grants.get(id);
    if (grant == null) {
      return grantMissing(id);
    }
    long now = now();
    Long expiresAt = grant.getLong("expires_at");
    if (expiresAt == null || expiresAt > now) {
      grant.put("expires_at", now).put("updated", now);
    }
    return new Outcome(Reply.of(200, grant.copy()), true);
  }

  private Outcome updateGrant(String id, JsonObject params) {
    JsonObject grant = grants.get(id);
    if (grant == null) {
      return grantMissing(id);
    }
    try {
      String unknown = unknownParam(params, "", UPDATE_PARAMS);
      if (unknown != null) {
        throw new Invalid("parameter_unknown", unknown, "Received unknown parameter: " + unknown);
      }
      if (params.containsKey("expires_at")) {
        Object raw = params.getValue("expires_at");
        grant.put("expires_at", "".equals(raw) ? null : integer(params, "expires_at", "expires_at", true));
      }
      if (params.containsKey("metadata")) {
        JsonObject metadata = grant.getJsonObject("metadata");
        Object raw = params.getValue("metadata");
        if ("".equals(raw)) {
          metadata.clear();
        } else {
          metadata(params).forEach(e -> {
            if ("".equals(e.getValue())) {
              metadata.remove(e.getKey());
            } else {
              metadata.put(e.getKey(), e.getValue());
            }
          });
        }
      }
      grant.put("updated", now());
      return new Outcome(Reply.of(200, grant.copy()), true);
    } catch (Invalid e) {
      return e.outcome();
    }
  }

  private static Outcome grantMissing(String id) {
    return new Outcome(Reply.of(404, error("invalid_request_error", "No such credit grant: '" + id + "'",
        "resource_missing", "id")), true);
  }

  // ---- meter events -------------------------------------------------------------------------------------

  /**
   * {@code POST /v1/billing/meter_events}. Meters themselves are not modelled: any {@code event_name} is
   * accepted and the payload keys are Stripe's defaults ({@code stripe_customer_id}, {@code value}).
   *
   * <p>What real Stripe answers, and what is guessed: the duplicate-identifier refusal is, as observed by
   * several integrations, a 400 invalid_request_error with NO {@code code} and the message "An event already
   * exists with identifier &lt;id&gt;." (the v2 API has {@code duplicate_meter_event}; v1 does not), so clients
   * must match the message. The too-old refusal's message is observed ("The event timestamp cannot be more
   * than 35 days in past. Expected a timestamp greater than or equal to &lt;t&gt;."); its code, the
   * too-new message and the codes of the payload refusals are guesses taken from the codes of Stripe's
   * meter error reports ({@code timestamp_too_far_in_past}, {@code timestamp_in_future},
   * {@code meter_event_no_customer_defined}, {@code meter_event_invalid_value}). Stripe may report payload
   * problems only asynchronously; the fake refuses them at once so a test sees them. Also guessed: that
   * identifiers are unique across event names, and that a duplicate refusal, like a validation failure, is not
   * kept for its idempotency key (either way a retry meets the same refusal within the 24 hours).
   */
  private Outcome createMeterEvent(JsonObject params) {
    try {
      rejectUnknown(params, "", METER_EVENT_PARAMS);
      String eventName = string(params, "event_name", "event_name", true);
      JsonObject payload = object(params, "payload", "payload", true);
      for (String k : payload.fieldNames()) {
        if (!(payload.getValue(k) instanceof String)) {
          throw new Invalid("parameter_invalid_string", "payload[" + k + "]", "Invalid string: payload[" + k + "]");
        }
      }
      if (string(payload, "stripe_customer_id", "payload[stripe_customer_id]", false) == null) {
        throw new Invalid("meter_event_no_customer_defined", "payload",
            "The payload is missing the customer mapping key 'stripe_customer_id'.");
      }
      checkMeterValue(payload);
      long now = now();
      Long timestamp = integer(params, "timestamp", "timestamp", false);
      if (timestamp == null) {
        timestamp = now;
      }
      checkMeterTimestamp(timestamp, now);
      String identifier = string(params, "identifier", "identifier", false);
      if (identifier == null) {
        identifier = UUID.randomUUID().toString(); // Stripe's generated format is not documented: a guess
      }
      Instant seen = meterIdentifiers.get(identifier);
      if (seen != null && clock.instant().isBefore(seen.plus(RETENTION))) {
        throw new Invalid(null, null, "An event already exists with identifier " + identifier + ".");
      }
      JsonObject event = new JsonObject()
          .put("object", "billing.meter_event")
          .put("created", now)
          .put("event_name", eventName)
          .put("identifier", identifier)
          .put("livemode", false)
          .put("payload", payload.copy())
          .put("timestamp", timestamp);
      meterEvents.add(event);
      meterIdentifiers.put(identifier, clock.instant());
      return new Outcome(Reply.of(200, event.copy()), true);
    } catch (Invalid e) {
      return e.outcome();
    }
  }

  /** Stripe's meter values are whole numbers sent as strings (negative ones are allowed and sum as such). */
  private static void checkMeterValue(JsonObject payload) throws Invalid {
    String raw = string(payload, "value", "payload[value]", false);
    if (raw == null) {
      throw new Invalid("meter_event_invalid_value", "payload[value]", "The payload is missing the value key 'value'.");
    }
    try {
      Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw new Invalid("meter_event_invalid_value", "payload[value]",
          "Invalid value '" + raw + "': meter event values must be whole numbers.");
    }
  }

  private static void checkMeterTimestamp(long timestamp, long now) throws Invalid {
    long earliest = now - METER_PAST_LIMIT_SECONDS;
    if (timestamp < earliest) {
      throw new Invalid("timestamp_too_far_in_past", "timestamp", "The event timestamp cannot be more than 35 days "
          + "in past. Expected a timestamp greater than or equal to " + earliest + ".");
    }
    long latest = now + METER_FUTURE_LIMIT_SECONDS;
    if (timestamp > latest) {
      throw new Invalid("timestamp_in_future", "timestamp", "The event timestamp cannot be more than 5 minutes "
          + "in future. Expected a timestamp less than or equal to " + latest + ".");
    }
  }

  // ---- payment intents ----------------------------------------------------------------------------------

  /**
   * {@code POST /v1/payment_intents}. Customers and payment methods are not modelled: any ids are accepted
   * and every payment attempt succeeds unless {@link #declineNextPaymentIntents} queued a decline.
   *
   * <p>Stripe's rules kept (API 2026-07-29.dahlia, which stripe-java 33.3.0 pins): confirming without a
   * payment method creates the PaymentIntent and refuses with 400 {@code payment_intent_unexpected_state};
   * without {@code payment_method_types}, automatic payment methods are on and may redirect, so confirming
   * then needs {@code return_url} or {@code automatic_payment_methods[allow_redirects]=never} (applied
   * off-session too, as Stripe's off-session example passes a return_url: unverified); {@code off_session}
   * only with {@code confirm=true} (the message is a guess); Stripe's minimum amounts for usd, eur and gbp.
   */
  private Outcome createIntent(JsonObject params) {
    try {
      rejectUnknown(params, "", INTENT_PARAMS);
      long amount = integer(params, "amount", "amount", true);
      if (amount < 1) {
        throw new Invalid("parameter_invalid_integer", "amount", "This value must be greater than or equal to 1.");
      }
      String currency = string(params, "currency", "currency", true).toLowerCase(Locale.ROOT);
      Long minimum = MINIMUM_CHARGE.get(currency);
      if (minimum != null && amount < minimum) {
        throw new Invalid("amount_too_small", "amount", "Amount must be at least " + CURRENCY_SYMBOL.get(currency)
            + String.format(Locale.ROOT, "%d.%02d", minimum / 100, minimum % 100) + " " + currency);
      }
      boolean confirm = bool(params, "confirm");
      boolean offSession = offSession(params, confirm);
      boolean mayAct = !offSession && !bool(params, "error_on_requires_action"); // may ask for 3D Secure
      String captureMethod = captureMethod(params);
      JsonArray types = stringList(params, "payment_method_types");
      JsonObject automatic = automaticPaymentMethods(params, types);
      String returnUrl = string(params, "return_url", "return_url", false);
      if (confirm && automatic != null && !"never".equals(automatic.getString("allow_redirects")) && returnUrl == null) {
        throw new Invalid(null, null, "This PaymentIntent is configured to accept payment methods enabled in your "
            + "Dashboard. Because some of these payment methods might redirect your customer off of your page, you "
            + "must provide a `return_url`. If you don't want to accept redirect-based payment methods, set "
            + "`automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to "
            + "`never` when creating Setup Intents and Payment Intents.");
      }
      JsonObject intent = newIntent(params, amount, currency, captureMethod, types, automatic);
      paymentIntents.put(intent.getString("id"), intent);
      createdIntents.add(intent.getString("id"));
      if (!confirm) {
        return new Outcome(Reply.of(200, intent.copy()), true);
      }
      if (intent.getValue("payment_method") == null) {
        return missingPaymentMethod(intent);
      }
      return attempt(intent, declines.pollFirst(), mayAct, returnUrl);
    } catch (Invalid e) {
      return e.outcome();
    }
  }

  /** A new PaymentIntent in Stripe's fixture shape, before any payment attempt. */
  private JsonObject newIntent(JsonObject params, long amount, String currency, String captureMethod,
                               JsonArray types, JsonObject automatic) throws Invalid {
    String id = "pi_" + randomAlnum(24);
    String paymentMethod = string(params, "payment_method", "payment_method", false);
    String confirmation = string(params, "confirmation_method", "confirmation_method", false);
    JsonObject intent = StripeFixtures.fixture("payment_intent");
    intent.put("id", id)
        .put("amount", amount)
        .put("amount_capturable", 0L)
        .put("amount_received", 0L)
        .put("automatic_payment_methods", automatic)
        .put("canceled_at", null)
        .put("capture_method", captureMethod)
        .put("client_secret", id + "_secret_" + randomAlnum(25))
        .put("confirmation_method", confirmation == null ? "automatic" : confirmation)
        .put("created", now())
        .put("currency", currency)
        .put("customer", string(params, "customer", "customer", false))
        .put("customer_account", string(params, "customer_account", "customer_account", false))
        .put("description", string(params, "description", "description", false))
        .put("last_payment_error", null)
        .put("latest_charge", null)
        .put("livemode", false)
        .put("managed_payments", new JsonObject().put("enabled", false)) // a guess at the default
        .put("metadata", metadata(params))
        .put("next_action", null)
        .put("payment_method", paymentMethod)
        // the configuration that chose the methods exists only with automatic payment methods
        .put("payment_method_configuration_details",
            automatic == null ? null : new JsonObject().put("id", "pmc_" + randomAlnum(24)).put("parent", null))
        // with automatic methods Stripe lists the account's enabled ones; a card-only account is assumed
        .put("payment_method_types", types == null ? new JsonArray().add("card") : types)
        .put("processing", null)
        .put("receipt_email", string(params, "receipt_email", "receipt_email", false))
        .put("setup_future_usage", string(params, "setup_future_usage", "setup_future_usage", false))
        .put("shipping", null)
        .put("statement_descriptor", string(params, "statement_descriptor", "statement_descriptor", false))
        .put("statement_descriptor_suffix",
            string(params, "statement_descriptor_suffix", "statement_descriptor_suffix", false))
        .put("status", paymentMethod == null ? "requires_payment_method" : "requires_confirmation")
        .put("transfer_data", null)
        .put("transfer_group", string(params, "transfer_group", "transfer_group", false));
    return intent;
  }

  /** Confirming without a payment method: the intent exists (so the result is kept for the key), but is refused. */
  private static Outcome missingPaymentMethod(JsonObject intent) {
    JsonObject error = new JsonObject()
        .put("code", "payment_intent_unexpected_state")
        .put("doc_url", "https://stripe.com/docs/error-codes/payment-intent-unexpected-state")
        .put("message", "You cannot confirm this PaymentIntent because it's missing a payment method. You can either "
            + "update the PaymentIntent with a payment method and then confirm it again, or confirm it again "
            + "directly with a payment method.")
        .put("payment_intent", intent.copy())
        .put("type", "invalid_request_error");
    return new Outcome(Reply.of(400, new JsonObject().put("error", error)), true);
  }

  /** One payment attempt: success, an SCA challenge (on-session), or a decline; every outcome is kept for the key. */
  private Outcome attempt(JsonObject intent, Decline decline, boolean mayAct, String returnUrl) {
    if (decline == null) {
      long amount = intent.getLong("amount");
      boolean manual = "manual".equals(intent.getString("capture_method"));
      intent.put("latest_charge", "ch_" + randomAlnum(24))
          .put("status", manual ? "requires_capture" : "succeeded")
          .put(manual ? "amount_capturable" : "amount_received", amount);
      return new Outcome(Reply.of(200, intent.copy()), true);
    }
    if ("authentication_required".equals(decline.declineCode()) && mayAct) {
      // on-session Stripe asks for 3D Secure instead of declining; the next_action contents are illustrative
      JsonObject next = returnUrl == null
          ? new JsonObject().put("type", "use_stripe_sdk").put("use_stripe_sdk", new JsonObject()
              .put("type", "three_d_secure_redirect").put("stripe_js", "https://hooks.stripe.com/redirect/authenticate/"
                  + "src_" + randomAlnum(24)))
          : new JsonObject().put("type", "redirect_to_url").put("redirect_to_url", new JsonObject()
              .put("return_url", returnUrl).put("url", "https://hooks.stripe.com/3d_secure_2/hosted?merchant=fake"));
      intent.put("status", "requires_action").put("next_action", next);
      return new Outcome(Reply.of(200, intent.copy()), true);
    }
    return declined(intent, decline);
  }

  /**
   * Stripe's decline: a failed charge, the intent back in {@code requires_payment_method} with the error in
   * {@code last_payment_error} and its payment method detached, and a 402 card_error carrying the intent.
   * Off-session SCA failures look the same with code {@code authentication_required}.
   */
  private Outcome declined(JsonObject intent, Decline decline) {
    String charge = "ch_" + randomAlnum(24);
    JsonObject paymentMethod = new JsonObject()
        .put("id", intent.getString("payment_method"))
        .put("object", "payment_method")
        .put("created", intent.getLong("created"))
        .put("customer", intent.getValue("customer"))
        .put("livemode", false)
        .put("metadata", new JsonObject())
        .put("type", "card");
    JsonObject error = new JsonObject()
        .put("charge", charge)
        .put("code", decline.code())
        .put("decline_code", decline.declineCode())
        .put("doc_url", "https://stripe.com/docs/error-codes/" + decline.code().replace('_', '-'))
        .put("message", decline.message())
        .put("payment_method", paymentMethod)
        .put("type", "card_error");
    intent.put("last_payment_error", error.copy())
        .put("latest_charge", charge)
        .put("payment_method", null)
        .put("status", "requires_payment_method");
    String requestId = newRequestId();
    error.put("payment_intent", intent.copy())
        .put("request_log_url", "https://dashboard.stripe.com/test/logs/" + requestId);
    return new Outcome(new Reply(402, new JsonObject().put("error", error), Map.of(), requestId), true);
  }

  private static boolean offSession(JsonObject params, boolean confirm) throws Invalid {
    String raw = string(params, "off_session", "off_session", false);
    if (raw == null) {
      return false;
    }
    if (!Set.of("true", "false", "one_off", "recurring").contains(raw)) {
      throw invalidEnum("off_session", raw, "one_off, recurring, true, false");
    }
    if (!confirm) {
      throw new Invalid(null, "off_session", "You can only pass `off_session` when `confirm` is true."); // guessed text
    }
    return !"false".equals(raw);
  }

  private static String captureMethod(JsonObject params) throws Invalid {
    String raw = string(params, "capture_method", "capture_method", false);
    if (raw == null) {
      return "automatic";
    }
    if (!Set.of("automatic", "automatic_async", "manual").contains(raw)) {
      throw invalidEnum("capture_method", raw, "automatic, automatic_async, manual");
    }
    return raw;
  }

  /** The intent's {@code automatic_payment_methods}: on (redirects allowed) unless payment method types are given. */
  private static JsonObject automaticPaymentMethods(JsonObject params, JsonArray types) throws Invalid {
    JsonObject given = object(params, "automatic_payment_methods", "automatic_payment_methods", false);
    if (given == null) {
      return types == null ? new JsonObject().put("allow_redirects", "always").put("enabled", true) : null;
    }
    if (types != null) {
      throw new Invalid("parameters_exclusive", "automatic_payment_methods",
          "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.");
    }
    rejectUnknown(given, "automatic_payment_methods", Set.of("allow_redirects", "enabled"));
    if (!bool(given, "enabled")) {
      return null;
    }
    String redirects = string(given, "allow_redirects", "automatic_payment_methods[allow_redirects]", false);
    if (redirects != null && !"always".equals(redirects) && !"never".equals(redirects)) {
      throw invalidEnum("automatic_payment_methods[allow_redirects]", redirects, "always, never");
    }
    return new JsonObject().put("allow_redirects", redirects == null ? "always" : redirects).put("enabled", true);
  }

  // ---- parameter helpers --------------------------------------------------------------------------------

  /** A parameter problem: answered 400 invalid_request_error and, as at Stripe, not kept for idempotency. */
  private static final class Invalid extends Exception {
    private final String code;
    private final String param;

    Invalid(String code, String param, String message) {
      super(message, null, false, false);
      this.code = code;
      this.param = param;
    }

    Outcome outcome() {
      return new Outcome(Reply.of(400, error("invalid_request_error", getMessage(), code, param)), false);
    }
  }

  private static Invalid missing(String param) {
    return new Invalid("parameter_missing", param, "Missing required param: " + param + ".");
  }

  private static Invalid invalidEnum(String param, String value, String allowed) {
    return new Invalid("parameter_invalid_string", param,
        "Invalid " + param + ": must be one of " + allowed + " (got '" + value + "')");
  }

  private static void rejectUnknown(JsonObject params, String prefix, Set<String> allowed) throws Invalid {
    String unknown = unknownParam(params, prefix, allowed);
    if (unknown != null) {
      throw new Invalid("parameter_unknown", unknown, "Received unknown parameter: " + unknown);
    }
  }

  /** A form boolean; absent is false. Stripe's code for a bad one is not documented, so none is sent. */
  private static boolean bool(JsonObject params, String name) throws Invalid {
    String raw = string(params, name, name, false);
    if (raw == null || "false".equals(raw)) {
      return false;
    }
    if ("true".equals(raw)) {
      return true;
    }
    throw new Invalid(null, name, "Invalid boolean: " + raw);
  }

  /** A form list of strings ({@code a[0]=x&a[1]=y}), or null when absent. */
  private static JsonArray stringList(JsonObject params, String name) throws Invalid {
    Object raw = params.getValue(name);
    if (raw == null || "".equals(raw)) {
      return null;
    }
    if (!(raw instanceof JsonArray list) || !list.stream().allMatch(String.class::isInstance)) {
      throw new Invalid(null, name, "Invalid array: " + name); // Stripe's code for this is not known
    }
    return list.copy();
  }

  private static String unknownParam(JsonObject params, String prefix, Set<String> allowed) {
    for (String name : params.fieldNames()) {
      if (!allowed.contains(name)) {
        return prefix.isEmpty() ? name : prefix + "[" + name + "]";
      }
    }
    return null;
  }

  private static String string(JsonObject params, String name, String param, boolean required) throws Invalid {
    Object raw = params.getValue(name);
    if (raw == null || "".equals(raw)) {
      if (required) {
        throw missing(param);
      }
      return null;
    }
    if (!(raw instanceof String s)) {
      throw new Invalid("parameter_invalid_string", param, "Invalid string: " + param);
    }
    return s;
  }

  private static JsonObject object(JsonObject params, String name, String param, boolean required) throws Invalid {
    Object raw = params.getValue(name);
    if (raw == null || "".equals(raw)) {
      if (required) {
        throw missing(param);
      }
      return null;
    }
    if (!(raw instanceof JsonObject o)) {
      throw new Invalid("parameter_invalid_object", param, "Invalid object: " + param);
    }
    return o;
  }

  private static Long integer(JsonObject params, String name, String param, boolean required) throws Invalid {
    String raw = string(params, name, param, required);
    if (raw == null) {
      return null;
    }
    try {
      return Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw new Invalid("parameter_invalid_integer", param, "Invalid integer: " + raw);
    }
  }

  private static JsonObject metadata(JsonObject params) throws Invalid {
    Object raw = params.getValue("metadata");
    if (raw == null || "".equals(raw)) {
      return new JsonObject();
    }
    if (!(raw instanceof JsonObject m)) {
      throw new Invalid("parameter_invalid_object", "metadata", "Invalid object: metadata");
    }
    for (String k : m.fieldNames()) {
      if (!(m.getValue(k) instanceof String)) {
        throw new Invalid("parameter_invalid_string", "metadata[" + k + "]", "Invalid string: metadata[" + k + "]");
      }
    }
    return m.copy();
  }

  // ---- small helpers ------------------------------------------------------------------------------------

  private long now() {
    return clock.instant().getEpochSecond();
  }

  private static JsonObject faultError(int status) {
    String type;
    if (status >= 500) {
      type = "api_error";
    } else if (status == 402) {
      type = "card_error";
    } else if (status == 429) {
      type = "rate_limit_error";
    } else {
      type = "invalid_request_error";
    }
    return error(type, "Injected fault: HTTP " + status + " (fake Stripe).", null, null);
  }

  private static JsonObject error(String type, String message, String code, String param) {
    JsonObject error = new JsonObject().put("type", type).put("message", message);
    if (code != null) {
      error.put("code", code);
    }
    if (param != null) {
      error.put("param", param);
    }
    return new JsonObject().put("error", error);
  }

  private static String newRequestId() {
    return "req_" + randomAlnum(14);
  }

  private static String randomAlnum(int n) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(ALNUM.charAt(r.nextInt(ALNUM.length())));
    }
    return sb.toString();
  }

  private static String trimToNull(String s) {
    if (s == null) {
      return null;
    }
    String t = s.trim();
    return t.isEmpty() ? null : t;
  }

  private static String pathSegment(String raw) {
    return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /**
   * Decodes Stripe's form encoding ({@code a[b][c]=v}, lists as {@code a[0]=x} or {@code a[]=x}) into nested
   * JSON. Values stay strings; objects whose keys are exactly 0..n-1 become arrays (except under metadata).
   */
  static final class Form {
    private Form() {}

    static JsonObject decode(String encoded) {
      JsonObject root = new JsonObject();
      if (encoded == null || encoded.isEmpty()) {
        return root;
      }
      for (String pair : encoded.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        put(root, path(key), value);
      }
      return (JsonObject) arrays(root, null);
    }

    private static List<String> path(String key) {
      List<String> parts = new ArrayList<>();
      int open = key.indexOf('[');
      if (open < 0) {
        parts.add(key);
        return parts;
      }
      parts.add(key.substring(0, open));
      int i = open;
      while (i < key.length()) {
        if (key.charAt(i) != '[') {
          throw new IllegalArgumentException("malformed key " + key);
        }
        int close = key.indexOf(']', i);
        if (close < 0) {
          throw new IllegalArgumentException("malformed key " + key);
        }
        parts.add(key.substring(i + 1, close));
        i = close + 1;
      }
      return parts;
    }

    private static void put(JsonObject root, List<String> path, String value) {
      JsonObject node = root;
      for (int i = 0; i < path.size(); i++) {
        String part = path.get(i);
        if (part.isEmpty()) {
          part = Integer.toString(node.size()); // a[]=x appends
        }
        if (i == path.size() - 1) {
          if (node.getValue(part) instanceof JsonObject) {
            throw new IllegalArgumentException("parameter given both as value and as object: " + part);
          }
          node.put(part, value);
        } else {
          Object child = node.getValue(part);
          if (child == null) {
            JsonObject created = new JsonObject();
            node.put(part, created);
            node = created;
          } else if (child instanceof JsonObject o) {
            node = o;
          } else {
            throw new IllegalArgumentException("parameter given both as value and as object: " + part);
          }
        }
      }
    }

    private static Object arrays(Object value, String name) {
      if (!(value instanceof JsonObject o)) {
        return value;
      }
      JsonObject out = new JsonObject();
      o.forEach(e -> out.put(e.getKey(), arrays(e.getValue(), e.getKey())));
      if ("metadata".equals(name) || "payload".equals(name) || out.isEmpty()) {
        return out;
      }
      for (int i = 0; i < out.size(); i++) {
        if (!out.containsKey(Integer.toString(i))) {
          return out;
        }
      }
      JsonArray array = new JsonArray();
      for (int i = 0; i < out.size(); i++) {
        array.add(out.getValue(Integer.toString(i)));
      }
      return array;
    }
  }
}
