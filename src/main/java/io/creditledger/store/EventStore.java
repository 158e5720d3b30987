package io.creditledger.store;

import io.creditledger.db.Rows;
import io.creditledger.db.Templates;
import io.creditledger.domain.EventType;
import io.creditledger.domain.OutboxStatus;
import io.creditledger.domain.WebhookDelivery;
import io.creditledger.domain.WebhookEndpoint;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static io.creditledger.db.Rows.first;
import static io.creditledger.time.Now.sql;

/** The events for the host application, the webhook endpoints, and the deliveries between them: their SQL. */
public final class EventStore {
  /** The channel PostgreSQL notifies when events commit (the trigger of migration 011); the relay listens. */
  public static final String WAKE_CHANNEL = "ledger_events";

  /** An event to write in the caller's transaction; {@code data} is its JSON text. */
  public record NewEvent(String eventId, EventType type, String userId, String data) {
    public static NewEvent of(EventType type, String userId, JsonObject data) {
      return new NewEvent("evt_" + UUID.randomUUID().toString().replace("-", ""), type, userId, data.encode());
    }
  }

  /** A committed event as the relay hands it on. */
  public record StoredEvent(long seq, String eventId, EventType type, String userId, JsonObject data,
                            Instant createdAt) {
  }

  /** A delivery claimed for sending, with what it needs: the event and the endpoint (null when deleted since). */
  public record Claimed(long deliveryId, int attempts, StoredEvent event, String endpointId, String url,
                        String secret) {
  }

  private static final String APPEND = """
    INSERT INTO events (event_id, type, user_id, data, created_at)
    SELECT v.event_id, v.type, v.user_id, v.data::jsonb, #{now}
    FROM unnest(#{eventIds}::text[], #{types}::text[], #{userIds}::text[], #{data}::text[])
        WITH ORDINALITY AS v (event_id, type, user_id, data, ord)
    ORDER BY v.ord""";

  /**
   * Takes the oldest undispatched events (SKIP LOCKED: instances take different ones), marks them dispatched and
   * makes one delivery per subscribed endpoint, in one statement.
   */
  private static final String DISPATCH = """
    WITH picked AS (
      SELECT seq
      FROM events
      WHERE dispatched_at IS NULL
      ORDER BY seq
      LIMIT #{limit}
      FOR UPDATE SKIP LOCKED),
    done AS (
      UPDATE events e
      SET dispatched_at = #{now}
      FROM picked
      WHERE e.seq = picked.seq
      RETURNING e.seq, e.event_id, e.type, e.user_id, e.data, e.created_at),
    fanned AS (
      INSERT INTO webhook_deliveries (event_seq, endpoint_id, next_attempt_at, created_at, updated_at)
      SELECT d.seq, w.endpoint_id, #{now}, #{now}, #{now}
      FROM done d
      JOIN webhook_endpoints w ON d.type = ANY (w.event_types)
      ON CONFLICT (event_seq, endpoint_id) DO NOTHING)
    SELECT seq, event_id, type, user_id, data, created_at
    FROM done
    ORDER BY seq""";

  /** Due deliveries, leased by moving their next attempt past {@code leaseUntil}. */
  private static final String CLAIM = """
    WITH due AS (
      SELECT delivery_id
      FROM webhook_deliveries
      WHERE status = 'pending'
        AND next_attempt_at <= #{now}
      ORDER BY next_attempt_at, delivery_id
      LIMIT #{limit}
      FOR UPDATE SKIP LOCKED),
    claimed AS (
      UPDATE webhook_deliveries d
      SET next_attempt_at = #{leaseUntil}, updated_at = #{now}
      FROM due
      WHERE d.delivery_id = due.delivery_id
      RETURNING d.delivery_id, d.event_seq, d.endpoint_id, d.attempts)
    SELECT c.delivery_id, c.attempts, c.endpoint_id, e.seq, e.event_id, e.type, e.user_id, e.data, e.created_at,
        w.url, w.secret
    FROM claimed c
    JOIN events e ON e.seq = c.event_seq
    LEFT JOIN webhook_endpoints w ON w.endpoint_id = c.endpoint_id
    ORDER BY c.delivery_id""";

  private static final String DELIVERED = """
    UPDATE webhook_deliveries
    SET status = 'delivered', delivered_at = #{now}, updated_at = #{now}, attempts = attempts + 1, last_error = NULL
    WHERE delivery_id = #{id}
      AND status = 'pending'""";

  private static final String FAILED = """
    UPDATE webhook_deliveries
    SET status = CASE WHEN #{dead} THEN 'dead' ELSE 'pending' END, attempts = attempts + 1,
        next_attempt_at = #{next}, last_error = #{error}, updated_at = #{now}
    WHERE delivery_id = #{id}
      AND status = 'pending'""";

  private static final String DELIVERY_COLUMNS = """
    d.delivery_id, e.event_id, e.type, e.user_id, d.endpoint_id, d.status, d.attempts, d.next_attempt_at,
    d.last_error, d.created_at, d.delivered_at""";

  private static final String LIST_DELIVERIES = """
    SELECT %s
    FROM webhook_deliveries d
    JOIN events e ON e.seq = d.event_seq
    WHERE (#{status}::text IS NULL OR d.status = #{status})
      AND d.delivery_id < #{before}
    ORDER BY d.delivery_id DESC
    LIMIT #{limit}""".formatted(DELIVERY_COLUMNS);

  private static final String RETRY = """
    WITH retried AS (
      UPDATE webhook_deliveries
      SET status = 'pending', attempts = 0, next_attempt_at = #{now}, updated_at = #{now}
      WHERE delivery_id = #{id}
        AND status <> 'delivered'
      RETURNING *)
    SELECT %s
    FROM (SELECT * FROM retried
          UNION ALL
          SELECT * FROM webhook_deliveries WHERE delivery_id = #{id} AND NOT EXISTS (SELECT 1 FROM retried)) d
    JOIN events e ON e.seq = d.event_seq""".formatted(DELIVERY_COLUMNS);

  /** A new endpoint takes the secret; an existing one only when {@code replaceSecret}. */
  private static final String PUT_ENDPOINT = """
    INSERT INTO webhook_endpoints (endpoint_id, url, event_types, secret, created_at, updated_at)
    VALUES (#{endpointId}, #{url}, #{types}::text[], #{secret}, #{now}, #{now})
    ON CONFLICT (endpoint_id) DO UPDATE
    SET url = excluded.url, event_types = excluded.event_types, updated_at = excluded.updated_at,
        secret = CASE WHEN #{replaceSecret} THEN excluded.secret ELSE webhook_endpoints.secret END
    RETURNING endpoint_id, url, event_types, secret, created_at, updated_at, xmax = 0 AS inserted""";

  private static final String LIST_ENDPOINTS = """
    SELECT endpoint_id, url, event_types, NULL AS secret, created_at, updated_at
    FROM webhook_endpoints
    ORDER BY endpoint_id""";

  /** An endpoint goes with the deliveries still owed to it. */
  private static final String DELETE_ENDPOINT = """
    WITH gone AS (
      DELETE FROM webhook_endpoints
      WHERE endpoint_id = #{endpointId}
      RETURNING endpoint_id, url, event_types, NULL::text AS secret, created_at, updated_at),
    dropped AS (
      DELETE FROM webhook_deliveries
      WHERE endpoint_id = #{endpointId}
        AND status <> 'delivered'
        AND EXISTS (SELECT 1 FROM gone))
    SELECT * FROM gone""";

  /**
   * Deletes events dispatched before {@code cutoff} whose deliveries all succeeded (or that had none), with those
   * deliveries: at most {@code limit} events. Events still owed to an endpoint (pending or dead) stay.
   */
  private static final String PRUNE = """
    WITH old AS (
      SELECT e.seq
      FROM events e
      WHERE e.dispatched_at IS NOT NULL
        AND e.created_at < #{cutoff}
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq AND d.status <> 'delivered')
      ORDER BY e.seq
      LIMIT #{limit}),
    deliveries AS (
      DELETE FROM webhook_deliveries d
      USING old
      WHERE d.event_seq = old.seq)
    DELETE FROM events e
    USING old
    WHERE e.seq = old.seq""";

  public Future<Integer> prune(Pool pool, Instant cutoff, int limit) {
    return Templates.forUpdate(pool, PRUNE).execute(Map.of("cutoff", sql(cutoff), "limit", limit))
        .map(r -> r.rowCount());
  }

  /** Writes {@code events} in the caller's transaction, with one statement. */
  public Future<Void> append(SqlClient conn, List<NewEvent> events, Instant now) {
    if (events.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = events.size();
    String[] ids = new String[n];
    String[] types = new String[n];
    String[] users = new String[n];
    String[] data = new String[n];
    for (int i = 0; i < n; i++) {
      NewEvent e = events.get(i);
      ids[i] = e.eventId();
      types[i] = e.type().wire();
      users[i] = e.userId();
      data[i] = e.data();
    }
    Map<String, Object> p = new HashMap<>();
    p.put("eventIds", ids);
    p.put("types", types);
    p.put("userIds", users);
    p.put("data", data);
    p.put("now", sql(now));
    return Templates.forUpdate(conn, APPEND).execute(p).mapEmpty();
  }

  public Future<List<StoredEvent>> dispatch(Pool pool, int limit, Instant now) {
    return pool.withTransaction(conn -> Templates.forQuery(conn, DISPATCH)
        .execute(Map.of("limit", limit, "now", sql(now))).map(rows -> {
          List<StoredEvent> out = new ArrayList<>();
          rows.forEach(row -> out.add(event(row)));
          return out;
        }));
  }

  public Future<List<Claimed>> claim(Pool pool, int limit, Instant leaseUntil, Instant now) {
    return pool.withTransaction(conn -> Templates.forQuery(conn, CLAIM)
        .execute(Map.of("limit", limit, "leaseUntil", sql(leaseUntil), "now", sql(now))).map(rows -> {
          List<Claimed> out = new ArrayList<>();
          rows.forEach(row -> out.add(new Claimed(row.getLong("delivery_id"), row.getInteger("attempts"), event(row),
              row.getString("endpoint_id"), row.getString("url"), row.getString("secret"))));
          return out;
        }));
  }

  public Future<Void> delivered(SqlClient client, long deliveryId, Instant now) {
    return Templates.forUpdate(client, DELIVERED).execute(Map.of("id", deliveryId, "now", sql(now))).mapEmpty();
  }

  public Future<Void> failed(SqlClient client, long deliveryId, String error, boolean dead, Instant next,
                             Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("id", deliveryId);
    p.put("error", error);
    p.put("dead", dead);
    p.put("next", sql(next));
    p.put("now", sql(now));
    return Templates.forUpdate(client, FAILED).execute(p).mapEmpty();
  }

  public Future<List<WebhookDelivery>> deliveries(SqlClient client, OutboxStatus status, long before, int limit) {
    Map<String, Object> p = new HashMap<>();
    p.put("status", status == null ? null : status.wire());
    p.put("before", before);
    p.put("limit", limit);
    return Templates.forQuery(client, LIST_DELIVERIES).execute(p).map(EventStore::deliveries);
  }

  /** Puts a delivery that is not delivered back in line now; answers it as it is afterwards, if there is one. */
  public Future<Optional<WebhookDelivery>> retry(Pool pool, long deliveryId, Instant now) {
    return pool.withTransaction(conn -> Templates.forQuery(conn, RETRY)
        .execute(Map.of("id", deliveryId, "now", sql(now)))
        .compose(rows -> conn.query("NOTIFY " + WAKE_CHANNEL).execute()
            .map(v -> deliveries(rows).stream().findFirst())));
  }

  /** An endpoint as stored by a PUT, and whether the PUT created it. */
  public record PutEndpoint(WebhookEndpoint endpoint, boolean created) {
  }

  public Future<PutEndpoint> putEndpoint(SqlClient client, WebhookEndpoint endpoint, boolean replaceSecret,
                                         Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("endpointId", endpoint.endpointId());
    p.put("url", endpoint.url());
    p.put("types", endpoint.eventTypes().stream().map(EventType::wire).toArray(String[]::new));
    p.put("secret", endpoint.secret());
    p.put("replaceSecret", replaceSecret);
    p.put("now", sql(now));
    return Templates.forQuery(client, PUT_ENDPOINT).execute(p).map(rows -> {
      Row row = first(rows).orElseThrow();
      return new PutEndpoint(endpoint(row), row.getBoolean("inserted"));
    });
  }

  public Future<List<WebhookEndpoint>> endpoints(SqlClient client) {
    return Templates.forQuery(client, LIST_ENDPOINTS).execute(Map.of()).map(rows -> {
      List<WebhookEndpoint> out = new ArrayList<>();
      rows.forEach(row -> out.add(endpoint(row)));
      return out;
    });
  }

  public Future<Optional<WebhookEndpoint>> deleteEndpoint(SqlClient client, String endpointId) {
    return Templates.forQuery(client, DELETE_ENDPOINT).execute(Map.of("endpointId", endpointId))
        .map(rows -> first(rows).map(EventStore::endpoint));
  }

  private static StoredEvent event(Row row) {
    Object data = row.getValue("data");
    return new StoredEvent(row.getLong("seq"), row.getString("event_id"), EventType.fromWire(row.getString("type")),
        row.getString("user_id"), data instanceof JsonObject j ? j : new JsonObject(String.valueOf(data)),
        Rows.instant(row, "created_at"));
  }

  private static WebhookEndpoint endpoint(Row row) {
    List<EventType> types = new ArrayList<>();
    for (String t : row.getArrayOfStrings("event_types")) {
      types.add(EventType.fromWire(t));
    }
    return new WebhookEndpoint(row.getString("endpoint_id"), row.getString("url"), List.copyOf(types),
        row.getString("secret"), Rows.instant(row, "created_at"), Rows.instant(row, "updated_at"));
  }

  private static List<WebhookDelivery> deliveries(RowSet<Row> rows) {
    List<WebhookDelivery> out = new ArrayList<>();
    for (Row row : rows) {
      out.add(new WebhookDelivery(row.getLong("delivery_id"), row.getString("event_id"),
          EventType.fromWire(row.getString("type")), row.getString("user_id"), row.getString("endpoint_id"),
          OutboxStatus.fromWire(row.getString("status")), row.getInteger("attempts"),
          Rows.instant(row, "next_attempt_at"), row.getString("last_error"), Rows.instant(row, "created_at"),
          Rows.instant(row, "delivered_at")));
    }
    return out;
  }
}
