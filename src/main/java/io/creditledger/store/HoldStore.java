package io.creditledger.store;

import io.creditledger.db.Rows;
import io.creditledger.domain.Grant;
import io.creditledger.domain.Hold;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.creditledger.time.Now.sql;

/** The SQL of authorization holds (table {@code holds}). */
public final class HoldStore {
  private static final String COLUMNS = """
      hold_id, user_id, amount, state, expires_at, created_at, closed_at, capture_operation_id, captured, member_id""";

  /** A write batch's holds: every hold stored as held for its users, and the holds its captures and releases name. */
  private static final String FOR_BATCH = """
      SELECT %s
      FROM holds
      WHERE (user_id = ANY($1::text[]) AND state = 'held')
         OR hold_id = ANY($2::text[])""".formatted(COLUMNS);

  /** The users' newest grants, whatever their state: what a capture's debt falls on when no grant is live. */
  private static final String NEWEST_GRANTS = """
      SELECT DISTINCT ON (user_id) %s
      FROM grants
      WHERE user_id = ANY($1::text[])
      ORDER BY user_id, grant_id DESC""".formatted(LedgerStore.GRANT_COLUMNS);

  /** Holds placed by a batch; one whose hold_id exists already fails it (holds_pkey). */
  private static final String INSERT = """
      INSERT INTO holds (hold_id, user_id, amount, state, expires_at, created_at, member_id)
      SELECT v.hold_id, v.user_id, v.amount, 'held', v.expires_at, $5, v.member_id
      FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $6::text[])
        AS v (hold_id, user_id, amount, expires_at, member_id)""";

  /**
   * Captures, releases and expiries; only holds still held change. With $6, every hold must have been held (else
   * LB001: the sweeper expired one meanwhile, and the batch is decided again).
   */
  private static final String CLOSE = """
      WITH closed AS (
        UPDATE holds h
        SET state = v.state, closed_at = v.closed_at, capture_operation_id = v.capture_operation_id,
            captured = v.captured
        FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[])
            AS v (hold_id, state, closed_at, capture_operation_id, captured)
        WHERE h.hold_id = v.hold_id
          AND h.state = 'held'
        RETURNING 1)
      SELECT batch_expect(NOT $6 OR count(*) = cardinality($1::text[]), 'LB001', 'A hold was closed meanwhile')
      FROM closed""";

  /**
   * The sweeper: up to $2 holds past their expiry become expired, claimed with SKIP LOCKED so that instances
   * sweeping together (or a capture holding a hold's row) never wait on each other.
   */
  private static final String SWEEP = """
      WITH due AS (
        SELECT hold_id
        FROM holds
        WHERE state = 'held'
          AND expires_at <= $1
        ORDER BY expires_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED)
      UPDATE holds h
      SET state = 'expired', closed_at = h.expires_at
      FROM due
      WHERE h.hold_id = due.hold_id""";

  private static final String GET = """
      SELECT %s
      FROM holds
      WHERE hold_id = $1
        AND user_id = $2""".formatted(COLUMNS);

  /** A user's holds, newest first; $2 null: every state. A held hold past its expiry counts as expired. */
  private static final String LIST = """
      SELECT %s
      FROM holds
      WHERE user_id = $1
        AND ($2::text IS NULL
          OR ($2 = 'held' AND state = 'held' AND expires_at > $3)
          OR ($2 = 'expired' AND (state = 'expired' OR (state = 'held' AND expires_at <= $3)))
          OR ($2 NOT IN ('held', 'expired') AND state = $2))
      ORDER BY created_at DESC, hold_id DESC
      LIMIT $4""".formatted(COLUMNS);

  /** What a batch read: the holds by user (held ones) and by id (those named). */
  public record BatchHolds(Map<String, List<Hold>> heldByUser, Map<String, Hold> byId) {
  }

  public Future<BatchHolds> forBatch(SqlClient conn, Collection<String> userIds, Collection<String> holdIds) {
    return conn.preparedQuery(FOR_BATCH)
        .execute(Tuple.tuple().addArrayOfString(userIds.toArray(new String[0]))
            .addArrayOfString(holdIds.toArray(new String[0])))
        .map(rows -> {
          Map<String, List<Hold>> byUser = new HashMap<>();
          Map<String, Hold> byId = new HashMap<>();
          for (Row r : rows) {
            Hold h = hold(r);
            byId.put(h.holdId(), h);
            if (h.state() == Hold.State.HELD) {
              byUser.computeIfAbsent(h.userId(), k -> new ArrayList<>()).add(h);
            }
          }
          return new BatchHolds(byUser, byId);
        });
  }

  public Future<Map<String, Grant>> newestGrants(SqlClient conn, Collection<String> userIds) {
    return conn.preparedQuery(NEWEST_GRANTS)
        .execute(Tuple.tuple().addArrayOfString(userIds.toArray(new String[0]))).map(rows -> {
      Map<String, Grant> newest = new HashMap<>();
      rows.forEach(r -> newest.put(r.getString("user_id"), LedgerStore.grant(r)));
      return newest;
    });
  }

  /** Inserts holds placed by a batch. */
  public Future<Void> insert(SqlClient conn, List<Hold> holds, Instant now) {
    if (holds.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = holds.size();
    String[] ids = new String[n];
    String[] users = new String[n];
    Long[] amounts = new Long[n];
    OffsetDateTime[] expires = new OffsetDateTime[n];
    String[] members = new String[n];
    for (int i = 0; i < n; i++) {
      Hold h = holds.get(i);
      members[i] = h.memberId();
      ids[i] = h.holdId();
      users[i] = h.userId();
      amounts[i] = h.amount();
      expires[i] = sql(h.expiresAt());
    }
    return conn.preparedQuery(INSERT).execute(Tuple.tuple().addArrayOfString(ids).addArrayOfString(users)
            .addArrayOfLong(amounts).addArrayOfOffsetDateTime(expires).addOffsetDateTime(sql(now))
            .addArrayOfString(members))
        .mapEmpty();
  }

  /**
   * Writes holds' new states (each was held when read). {@code everyHeld}: each must still be held, else the
   * statement fails with LB001; otherwise one closed meanwhile is left as it is.
   */
  public Future<Void> close(SqlClient conn, List<Hold> closed, boolean everyHeld) {
    if (closed.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = closed.size();
    String[] ids = new String[n];
    String[] states = new String[n];
    OffsetDateTime[] at = new OffsetDateTime[n];
    String[] captures = new String[n];
    Long[] captured = new Long[n];
    for (int i = 0; i < n; i++) {
      Hold h = closed.get(i);
      ids[i] = h.holdId();
      states[i] = h.state().wire();
      at[i] = sql(h.closedAt());
      captures[i] = h.captureOperationId();
      captured[i] = h.captured();
    }
    return conn.preparedQuery(CLOSE).execute(Tuple.tuple().addArrayOfString(ids).addArrayOfString(states)
        .addArrayOfOffsetDateTime(at).addArrayOfString(captures).addArrayOfLong(captured).addBoolean(everyHeld))
        .mapEmpty();
  }

  /** Expires up to {@code limit} holds past their expiry; answers how many. */
  public Future<Integer> sweep(SqlClient client, Instant now, int limit) {
    return client.preparedQuery(SWEEP).execute(Tuple.of(sql(now), limit)).map(SqlResult::rowCount);
  }

  public Future<Optional<Hold>> get(SqlClient client, String userId, String holdId) {
    return client.preparedQuery(GET).execute(Tuple.of(holdId, userId)).map(rows -> Rows.first(rows).map(HoldStore::hold));
  }

  /** @param state null: every state */
  public Future<List<Hold>> list(SqlClient client, String userId, Hold.State state, Instant now, int limit) {
    return client.preparedQuery(LIST)
        .execute(Tuple.of(userId, state == null ? null : state.wire(), sql(now), limit))
        .map(HoldStore::holds);
  }

  private static List<Hold> holds(RowSet<Row> rows) {
    List<Hold> out = new ArrayList<>(rows.size());
    rows.forEach(r -> out.add(hold(r)));
    return out;
  }

  static Hold hold(Row r) {
    return new Hold(r.getString("hold_id"), r.getString("user_id"), r.getLong("amount"),
        Hold.State.fromWire(r.getString("state")), Rows.instant(r, "expires_at"), Rows.instant(r, "created_at"),
        Rows.instant(r, "closed_at"), r.getString("capture_operation_id"), r.getLong("captured"),
        r.getString("member_id"));
  }
}
