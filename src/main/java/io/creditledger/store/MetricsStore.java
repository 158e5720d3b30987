package io.creditledger.store;

import io.creditledger.db.Templates;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.util.Map;

import static io.creditledger.db.Rows.first;
import static io.creditledger.time.Now.sql;

/** What the gauges of {@code GET /metrics} read from the database, in one statement. */
public final class MetricsStore {
  /** The database's side of the metrics: outbox rows by status, the oldest pending row's age, users due a reset. */
  public record State(Map<String, Long> outboxByStatus, long oldestPendingSeconds, long resetDueUsers) {
  }

  private static final String STATE = """
    SELECT
      (SELECT count(*) FROM stripe_outbox WHERE status = 'pending') AS pending,
      (SELECT count(*) FROM stripe_outbox WHERE status = 'delivered') AS delivered,
      (SELECT count(*) FROM stripe_outbox WHERE status = 'dead') AS dead,
      (SELECT coalesce(floor(extract(epoch FROM #{now} - min(created_at)))::bigint, 0)
       FROM stripe_outbox WHERE status = 'pending') AS oldest,
      (SELECT count(*) FROM users WHERE next_quota_reset <= #{now}) AS due""";

  public Future<State> state(SqlClient client, Instant now) {
    return Templates.forQuery(client, STATE).execute(Map.of("now", sql(now))).map(rows -> {
      Row r = first(rows).orElseThrow();
      return new State(Map.of("pending", r.getLong("pending"), "delivered", r.getLong("delivered"),
          "dead", r.getLong("dead")), Math.max(0, r.getLong("oldest")), r.getLong("due"));
    });
  }
}
