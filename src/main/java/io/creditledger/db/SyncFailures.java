package io.creditledger.db;

import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The {@code sync_failure} table: operations that failed for good and need a person — provider
 * {@code internal} for our own database, {@code stripe} for Stripe events the ledger could not apply.
 */
public final class SyncFailures {
  public static final String INTERNAL = "internal";
  public static final String STRIPE = "stripe";

  private static final String INSERT = """
    INSERT INTO sync_failure (provider, operation_id, user_id, payload, error, attempts, created_at)
    VALUES (#{provider}, #{operationId}, #{userId}, #{payload}, #{error}, #{attempts}, #{now})""";

  public Future<Void> record(SqlClient client, String provider, String operationId, String userId,
                                    JsonObject payload, String error, int attempts, Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("provider", provider);
    p.put("operationId", operationId);
    p.put("userId", userId);
    p.put("payload", payload);
    p.put("error", error.length() > 2000 ? error.substring(0, 2000) : error);
    p.put("attempts", attempts);
    p.put("now", Now.sql(now));
    return Templates.forUpdate(client, INSERT).execute(p).mapEmpty();
  }
}
