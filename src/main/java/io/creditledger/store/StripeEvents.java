package io.creditledger.store;

import io.creditledger.db.Templates;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.util.Map;

/** The SQL of received Stripe events: each event id is recorded once. */
public final class StripeEvents {
  private static final String RECORD = """
    INSERT INTO stripe_events (event_id, type, received_at)
    VALUES (#{id}, #{type}, #{now})
    ON CONFLICT (event_id) DO NOTHING""";

  /** True when this is the first time the event is seen (in this transaction's view, after concurrent ones commit). */
  public Future<Boolean> recordFirst(SqlClient conn, String eventId, String type, Instant now) {
    return Templates.forUpdate(conn, RECORD).execute(Map.of("id", eventId, "type", type, "now", Now.sql(now)))
        .map(r -> r.rowCount() == 1);
  }
}
