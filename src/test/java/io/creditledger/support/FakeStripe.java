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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake of the parts of the Stripe API the ledger uses (Billing credit grants, payment intent retrieval),
 * served over real HTTP on 127.0.0.1 so the real stripe-java client can talk to it, with injectable faults.
 *
 * <p>Faithful where it matters for a client: form-encoded bracketed parameters, Stripe-shaped objects and
 * error bodies, {@code Request-Id} headers, bearer-key authentication and Stripe's idempotency rules (a key
 * replays the first processed result with {@code Idempotent-Replayed: true}; the same key with other
 * parameters is a 400 {@code idempotency_error}; validation failures and unprocessed faults store nothing).
 *
 * <p>Faults apply to requests whose path starts with {@code /v1/}. Precedence per request: {@link #outage}
 * first, then the queue filled by {@link #failNext}, {@link #rateLimitNext}, {@link #slowNext} and
 * {@link #dropNext} (one entry per request, FIFO, so {@code failNext(1,500); slowNext(1,100)} fails the
 * next request and slows the one after), then {@link #randomFaults}. A fault is taken from the queue when
 * the request arrives (arrival order), and the request body is always read completely before the fault
 * acts.
 *
 * <p>Beware when counting requests: the JDK's {@code HttpURLConnection} (which stripe-java uses) silently
 * re-sends a request once, POSTs included, when the connection is closed before any response byte arrives,
 * even with {@code setMaxNetworkRetries(0)}. One stripe-java call therefore meets two {@link #dropNext}
 * entries before it fails with {@code ApiConnectionException}; the re-sent request carries the same
 * {@code Idempotency-Key}.
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
  private static final Set<String> CREATE_PARAMS = Set.of("amount", "applicability_config", "category", "customer",
      "customer_account", "effective_at", "expand", "expires_at", "metadata", "name", "priority");
  private static final Set<String> UPDATE_PARAMS = Set.of("expand", "expires_at", "metadata");
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

  private record Stored(String method, String path, JsonObject params, Reply reply) {}

  private final Vertx vertx;
  private final Clock clock;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile int port;

  private final Object lock = new Object();
  // guarded by lock
  private final Deque<Fault> queued = new ArrayDeque<>();
  private boolean outage;
  private long latencyMs;
  private Random random;
  private double randomFailureRate;
  private double randomSlowRate;
  private long randomSlowDelayMs;
  private final LinkedHashMap<String, JsonObject> grants = new LinkedHashMap<>();
  private final Map<String, Integer> createdUnderKey = new HashMap<>();
  private final Map<String, Stored> idempotent = new HashMap<>();
  private final List<Recorded> recorded = new ArrayList<>();
  private final Map<String, JsonObject> paymentIntents = new HashMap<>();

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

  private Fault takeFault() {
    synchronized (lock) {
      if (outage) {
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

  // ---- request handling ---------------------------------------------------------------------------------

  private void handle(HttpServerRequest req) {
    String path = req.path();
    Fault fault = path.startsWith("/v1/") ? takeFault() : null;
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
      Stored stored = idempotent.get(key);
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
      idempotent.put(key, new Stored(method, path, params.copy(), outcome.reply()));
    }
    return outcome.reply();
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
      grants.put(grant.getString("id"), grant);
      if (key != null) {
        createdUnderKey.merge(key, 1, Integer::sum);
      }
      return new Outcome(Reply.of(200, grant.copy()), true);
    } catch (Invalid e) {
      return e.outcome();
    }
  }

  private Outcome listGrants(JsonObject params) {
    try {
      String customer = string(params, "customer", "customer", false);
      String customerAccount = string(params, "customer_account", "customer_account", false);
      if (customer == null && customerAccount == null) {
        throw missing("customer");
      }
      Long limit = integer(params, "limit", "limit", false);
      int max = limit == null ? 10 : (int) Math.max(1, Math.min(100, limit));
      String startingAfter = string(params, "starting_after", "starting_after", false);
      List<JsonObject> matching = new ArrayList<>();
      grants.values().forEach(g -> {
        if ((customer == null || customer.equals(g.getString("customer")))
            && (customerAccount == null || customerAccount.equals(g.getString("customer_account")))) {
          matching.add(g);
        }
      });
      Collections.reverse(matching); // newest first
      int from = 0;
      if (startingAfter != null) {
        for (int i = 0; i < matching.size(); i++) {
          if (matching.get(i).getString("id").equals(startingAfter)) {
            from = i + 1;
          }
        }
      }
      JsonArray data = new JsonArray();
      for (int i = from; i < matching.size() && data.size() < max; i++) {
        data.add(matching.get(i).copy());
      }
      JsonObject list = new JsonObject()
          .put("object", "list")
          .put("data", data)
          .put("has_more", from + data.size() < matching.size())
          .put("url", CREDIT_GRANTS);
      return new Outcome(Reply.of(200, list), true);
    } catch (Invalid e) {
      return e.outcome();
    }
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
      if ("metadata".equals(name) || out.isEmpty()) {
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
