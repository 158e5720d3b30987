package io.creditledger.store;

import io.creditledger.db.Rows;
import io.creditledger.db.Templates;
import io.creditledger.domain.AutoTopUp;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.creditledger.db.Rows.first;
import static io.creditledger.time.Now.sql;

/** Auto top-up settings and the top-up in flight, per user: their SQL. Callers hold the user's lock to write. */
public final class AutoTopUpStore {
  private static final String COLUMNS = """
    user_id, enabled, threshold, amount, payment_method_id, in_flight, started, last_attempt_at, last_error,
    disabled_reason""";

  private static final String FOR_USERS = """
    SELECT %s
    FROM auto_top_ups
    WHERE user_id = ANY(#{userIds}::text[])
      AND enabled""".formatted(COLUMNS);

  private static final String GET = "SELECT %s FROM auto_top_ups WHERE user_id = #{userId}".formatted(COLUMNS);

  /** Settings from the user; turning it on clears why it was turned off. */
  private static final String PUT = """
    INSERT INTO auto_top_ups (user_id, enabled, threshold, amount, payment_method_id, created_at, updated_at)
    VALUES (#{userId}, #{enabled}, #{threshold}, #{amount}, #{paymentMethodId}, #{now}, #{now})
    ON CONFLICT (user_id) DO UPDATE
    SET enabled = excluded.enabled, threshold = excluded.threshold, amount = excluded.amount,
        payment_method_id = excluded.payment_method_id, updated_at = excluded.updated_at,
        disabled_reason = CASE WHEN excluded.enabled THEN NULL ELSE auto_top_ups.disabled_reason END
    RETURNING %s""".formatted(COLUMNS);

  private static final String STARTED = """
    WITH started AS (
      UPDATE auto_top_ups t
      SET in_flight = v.operation_id, started = t.started + 1, last_attempt_at = #{now}, updated_at = #{now}
      FROM unnest(#{userIds}::text[], #{operationIds}::text[]) AS v (user_id, operation_id)
      WHERE t.user_id = v.user_id
        AND t.in_flight IS NULL
      RETURNING 1)
    SELECT batch_expect(count(*) = #{n}, 'LB001', 'An auto top-up started meanwhile')
    FROM started""";

  private static final String SUCCEEDED = """
    UPDATE auto_top_ups
    SET in_flight = NULL, last_error = NULL, updated_at = #{now}
    WHERE user_id = #{userId}
      AND in_flight = #{operationId}""";

  private static final String FAILED = """
    UPDATE auto_top_ups
    SET in_flight = NULL, enabled = false, disabled_reason = #{reason}, last_error = #{reason}, updated_at = #{now}
    WHERE user_id = #{userId}
      AND in_flight = #{operationId}""";

  /** The enabled settings of {@code userIds}. */
  public Future<Map<String, AutoTopUp>> forUsers(SqlClient conn, java.util.Collection<String> userIds) {
    return Templates.forQuery(conn, FOR_USERS).execute(Map.of("userIds", userIds.toArray(String[]::new)))
        .map(rows -> {
          Map<String, AutoTopUp> out = new HashMap<>();
          rows.forEach(row -> out.put(row.getString("user_id"), autoTopUp(row)));
          return out;
        });
  }

  public Future<Optional<AutoTopUp>> get(SqlClient client, String userId) {
    return Templates.forQuery(client, GET).execute(Map.of("userId", userId))
        .map(rows -> first(rows).map(AutoTopUpStore::autoTopUp));
  }

  public Future<AutoTopUp> put(SqlClient conn, AutoTopUp settings, Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("userId", settings.userId());
    p.put("enabled", settings.enabled());
    p.put("threshold", settings.threshold());
    p.put("amount", settings.amount());
    p.put("paymentMethodId", settings.paymentMethodId());
    p.put("now", sql(now));
    return Templates.forQuery(conn, PUT).execute(p).map(rows -> autoTopUp(first(rows).orElseThrow()));
  }

  /**
   * A top-up started for each user: {@code operationIds[i]} is in flight for {@code userIds[i]}. One with a top-up in
   * flight already fails the statement (LB001).
   */
  public Future<Void> started(SqlClient conn, List<String> userIds, List<String> operationIds, Instant now) {
    if (userIds.isEmpty()) {
      return Future.succeededFuture();
    }
    return Templates.forQuery(conn, STARTED).execute(Map.of("userIds", userIds.toArray(String[]::new),
        "operationIds", operationIds.toArray(String[]::new), "now", sql(now), "n", userIds.size())).mapEmpty();
  }

  /** The top-up in flight was paid; false when it is not the one in flight (settled already). */
  public Future<Boolean> succeeded(SqlClient conn, String userId, String operationId, Instant now) {
    return Templates.forUpdate(conn, SUCCEEDED)
        .execute(Map.of("userId", userId, "operationId", operationId, "now", sql(now)))
        .map(r -> r.rowCount() == 1);
  }

  /** The top-up in flight failed for good: auto top-up goes off; false when it is not the one in flight. */
  public Future<Boolean> failed(SqlClient conn, String userId, String operationId, String reason, Instant now) {
    return Templates.forUpdate(conn, FAILED)
        .execute(Map.of("userId", userId, "operationId", operationId, "reason", reason, "now", sql(now)))
        .map(r -> r.rowCount() == 1);
  }

  private static AutoTopUp autoTopUp(Row row) {
    return new AutoTopUp(row.getString("user_id"), row.getBoolean("enabled"), row.getLong("threshold"),
        row.getLong("amount"), row.getString("payment_method_id"), row.getString("in_flight"),
        row.getInteger("started"), Rows.instant(row, "last_attempt_at"), row.getString("last_error"),
        row.getString("disabled_reason"));
  }
}
