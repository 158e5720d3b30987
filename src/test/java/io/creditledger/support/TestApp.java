package io.creditledger.support;

import io.creditledger.CreditLedger;
import io.creditledger.config.ConfigLoader;
import io.creditledger.config.DatabaseUrl;
import io.creditledger.config.LedgerConfig;
import io.creditledger.metrics.LedgerMeters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The whole service booted in-process on a random port against a fresh database, the way {@code Main}
 * boots it, with a clock the test controls.
 */
public final class TestApp implements AutoCloseable {
  public static final String SERVICE_TOKEN = "test-service-token-0123456789";
  public static final String ADMIN_TOKEN = "test-admin-token-0123456789ab";

  public final Vertx vertx;
  public final CreditLedger ledger;
  public final LedgerConfig config;
  public final DatabaseUrl database;
  public final MutableClock clock;
  public final Api api;
  public final Api admin;

  private TestApp(Vertx vertx, CreditLedger ledger, LedgerConfig config, DatabaseUrl database, MutableClock clock) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.config = config;
    this.database = database;
    this.clock = clock;
    this.api = new Api(ledger.httpPort(), SERVICE_TOKEN);
    this.admin = new Api(ledger.httpPort(), ADMIN_TOKEN);
  }

  public static TestApp start() {
    return start(Map.of());
  }

  /** Boots with the given settings on top of the test defaults (fresh database, port 0, fixed tokens). */
  public static TestApp start(Map<String, String> settings) {
    return start(settings, TestDatabase.fresh(), new MutableClock(Instant.parse("2026-01-15T10:00:00Z")));
  }

  /** Boots on {@code database} (a second instance may share it) with {@code clock}. */
  public static TestApp start(Map<String, String> settings, DatabaseUrl database, MutableClock clock) {
    return start(settings, database, clock, Vertx.vertx());
  }

  /** Boots on a Vert.x whose HTTP server, pools and event bus report metrics, as the service's main runs it. */
  public static TestApp startInstrumented(Map<String, String> settings) {
    return start(settings, TestDatabase.fresh(), new MutableClock(Instant.parse("2026-01-15T10:00:00Z")),
        LedgerMeters.instrumentedVertx());
  }

  private static TestApp start(Map<String, String> settings, DatabaseUrl database, MutableClock clock, Vertx vertx) {
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", "postgresql://" + database.user() + "@" + database.host() + ":" + database.port()
        + "/" + database.database());
    env.put("HTTP_PORT", "0");
    env.put("HTTP_HOST", "127.0.0.1");
    env.put("LEDGER_API_TOKEN", SERVICE_TOKEN);
    env.put("LEDGER_ADMIN_TOKEN", ADMIN_TOKEN);
    env.put("DATABASE_POOL_SIZE", "8");
    env.putAll(settings);
    LedgerConfig config = ConfigLoader.load(env).withClock(clock);
    try {
      CreditLedger ledger = await(CreditLedger.deploy(vertx, config));
      return new TestApp(vertx, ledger, config, database, clock);
    } catch (RuntimeException e) {
      vertx.close();
      throw e;
    }
  }

  /** Creates a user (asserting 201) and returns it. */
  public JsonObject user(String userId) {
    return user(userId, new JsonObject().put("email", userId + "@example.com"));
  }

  public JsonObject user(String userId, JsonObject body) {
    Api.Response r = api.put("/v1/users/" + userId, body);
    if (r.status() != 201) {
      throw new AssertionError("creating " + userId + ": " + r);
    }
    return r.json();
  }

  /** Grants (with the admin token, so every type works) and returns the answer. */
  public Api.Response grant(String userId, String operationId, String type, long amount) {
    return admin.post("/v1/users/" + userId + "/grants",
        new JsonObject().put("operationId", operationId).put("type", type).put("amount", amount));
  }

  public Api.Response consume(String userId, String operationId, long amount) {
    return api.post("/v1/users/" + userId + "/consume",
        new JsonObject().put("operationId", operationId).put("amount", amount));
  }

  public JsonObject balance(String userId) {
    Api.Response r = api.get("/v1/users/" + userId + "/balance");
    if (r.status() != 200) {
      throw new AssertionError("balance of " + userId + ": " + r);
    }
    return r.json();
  }

  public JsonArray journal(String userId) {
    return api.get("/v1/users/" + userId + "/ledger?limit=500").json().getJsonArray("entries");
  }

  public JsonArray grants(String userId) {
    return api.get("/v1/users/" + userId + "/grants?limit=500").json().getJsonArray("grants");
  }

  /** A connection to this app's database, for tests that inspect or damage it directly; close it after use. */
  public SqlSession db() {
    return TestDatabase.open(database);
  }

  /** Runs SQL on this app's database (on a connection of its own). */
  public void sql(String statement) {
    try (SqlSession db = db()) {
      db.execute(statement);
    }
  }

  /** Every row of {@code query}. */
  public List<SqlSession.Row> rows(String query) {
    try (SqlSession db = db()) {
      return db.rows(query);
    }
  }

  /** The first column of the first row of {@code query} as text, or null when there is no row. */
  public String text(String query) {
    try (SqlSession db = db()) {
      return db.text(query);
    }
  }

  /** The first column of the first row of {@code query} as a number. */
  public long number(String query) {
    try (SqlSession db = db()) {
      return db.number(query);
    }
  }

  public static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    try {
      await(ledger.close());
    } finally {
      await(vertx.close());
    }
  }
}
