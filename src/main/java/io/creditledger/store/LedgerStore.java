package io.creditledger.store;

import io.creditledger.db.Rows;
import io.creditledger.db.Templates;
import io.creditledger.domain.CloseReason;
import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.JournalBatch;
import io.creditledger.domain.JournalEntry;
import io.creditledger.domain.JournalKind;
import io.creditledger.domain.OperationKind;
import io.creditledger.domain.RolloverShares;
import io.creditledger.domain.User;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.data.Numeric;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.creditledger.db.Rows.first;
import static io.creditledger.time.Now.sql;

/** The ledger's SQL, in one place: grants, the journal, operations (idempotency), referrals. */
public final class LedgerStore {
  public static final String GRANT_COLUMNS = """
    grant_id, user_id, operation_id, type, priority, principal, balance, cents, cents_per_credit,
    expires_at, description, created_at, closed_at, closed_by, close_reason, stripe_customer_id,
    stripe_grant_id, stripe_voided_at, payment_intent_id""";

  private static final String LOCK_USER_WITH_OPERATION = """
    SELECT u.*, o.kind AS op_kind, o.request AS op_request, o.status AS op_status, o.response AS op_response
    FROM users u
    LEFT JOIN operations o ON o.operation_id = #{operationId}
    WHERE u.user_id = #{userId}
    FOR UPDATE OF u""";

  private static final String FIND_OPERATION = """
    SELECT kind AS op_kind, request AS op_request, status AS op_status, response AS op_response
    FROM operations
    WHERE operation_id = #{operationId}""";

  /** Grants that matter for balances and consumption: any with a non-zero balance, and every active one. */
  private static final String LIVE_GRANTS = """
    SELECT %s
    FROM grants
    WHERE user_id = #{userId}
      AND (balance <> 0 OR (closed_at IS NULL AND (expires_at IS NULL OR expires_at > #{now})))""".formatted(GRANT_COLUMNS);

  private static final String INSERT_GRANT = """
    WITH g AS (
      INSERT INTO grants (user_id, operation_id, type, priority, principal, balance, cents,
          cents_per_credit, expires_at, description, created_at, stripe_customer_id, payment_intent_id,
          stripe_grant_id)
      VALUES (#{userId}, #{operationId}, #{type}, #{priority}, #{amount}, #{amount}, #{cents},
          #{centsPerCredit}, #{expiresAt}, #{description}, #{now}, #{stripeCustomerId}, #{paymentIntentId},
          #{stripeGrantId})
      RETURNING %s),
    j AS (
      INSERT INTO journal (user_id, grant_id, operation_id, kind, delta, balance_after, description,
          created_at)
      SELECT user_id, grant_id, operation_id, #{kind}, principal, principal, description, created_at
      FROM g)
    SELECT *
    FROM g""".formatted(GRANT_COLUMNS);

  /**
   * A user's cycle, active holds and live grants in one statement (one snapshot, one round trip): a row per live
   * grant, or one row without a grant when there is none; no row when there is no such user. Positional parameters ($1 the user,
   * $2 now), not a template: every balance read runs it, and a template is parsed again at each use.
   */
  private static final String BALANCE_SNAPSHOT = """
    SELECT u.usage_this_cycle AS u_usage, u.next_quota_reset AS u_next_reset,
        (SELECT coalesce(sum(h.amount), 0) FROM holds h WHERE h.user_id = u.user_id AND h.state = 'held'
            AND h.expires_at > $2) AS u_held, %s
    FROM users u
    LEFT JOIN grants g ON g.user_id = u.user_id
      AND (g.balance <> 0 OR (g.closed_at IS NULL AND (g.expires_at IS NULL OR g.expires_at > $2)))
    WHERE u.user_id = $1""".formatted(prefixed("g."));

  /** The users of a write batch, locked in user-id order (two batches never wait on each other in a circle). */
  private static final String LOCK_USERS = """
    SELECT %s
    FROM users
    WHERE user_id = ANY(#{userIds}::text[])
    ORDER BY user_id
    FOR UPDATE""".formatted(UserStore.COLUMNS);

  private static final String FIND_OPERATIONS = """
    SELECT operation_id, kind AS op_kind, request AS op_request, status AS op_status, response AS op_response
    FROM operations
    WHERE operation_id = ANY(#{operationIds}::text[])""";

  private static final String LIVE_GRANTS_OF = """
    SELECT %s
    FROM grants
    WHERE user_id = ANY(#{userIds}::text[])
      AND (balance <> 0 OR (closed_at IS NULL AND (expires_at IS NULL OR expires_at > #{now})))""".formatted(GRANT_COLUMNS);

  private static final String GRANT_OWNERS = """
    SELECT operation_id, user_id
    FROM grants
    WHERE operation_id = ANY(#{operationIds}::text[])""";

  /**
   * New balances, only where a grant still holds what was read under its user's lock; one that does not fails the
   * statement (LB002: something changed a balance without its user's lock).
   */
  private static final String CHANGE_BALANCES = """
    UPDATE grants g
    SET balance = v.new_balance
    FROM unnest(#{ids}::bigint[], #{balanceUserIds}::text[], #{olds}::bigint[], #{news}::bigint[])
        AS v (grant_id, user_id, old_balance, new_balance)
    WHERE g.grant_id = v.grant_id
      AND g.user_id = v.user_id
      AND g.balance = v.old_balance
    RETURNING 1""";

  private static final String EXPECT_CHANGED = """
    SELECT batch_expect(count(*) = #{n}, 'LB002', 'Grant balances changed outside their users'' locks')
    FROM changed""";

  private static final String INSERT_ENTRIES = """
    INSERT INTO journal (user_id, grant_id, operation_id, kind, delta, balance_after, description, created_at)
    SELECT v.user_id, v.grant_id, v.operation_id, v.kind, v.delta, v.balance_after, v.description, #{now}
    FROM unnest(#{entryUserIds}::text[], #{grantIds}::bigint[], #{entryOperationIds}::text[], #{entryKinds}::text[],
        #{deltas}::bigint[], #{afters}::bigint[], #{descriptions}::text[])
        WITH ORDINALITY AS v (user_id, grant_id, operation_id, kind, delta, balance_after, description, ord)
    ORDER BY v.ord""";

  // The answers go out as JSON text and become jsonb here: a string bound to a jsonb parameter would be stored as a
  // JSON string holding the text (encoded twice, escaped by the client), which is how rows before this were stored.
  private static final String INSERT_OPERATIONS = """
    INSERT INTO operations (operation_id, user_id, kind, request, status, response, created_at)
    SELECT v.operation_id, v.user_id, v.kind, v.request, v.status, v.response::jsonb, #{now}
    FROM unnest(#{operationIds}::text[], #{userIds}::text[], #{kinds}::text[], #{requests}::text[],
        #{statuses}::smallint[], #{responses}::text[])
        WITH ORDINALITY AS v (operation_id, user_id, kind, request, status, response, ord)
    ORDER BY v.ord""";

  /**
   * Grants decided in a write batch, with the ids allocated for them; one whose operationId exists already fails the
   * statement (grants_operation_id_key).
   */
  private static final String INSERT_GRANTS = """
    INSERT INTO grants (grant_id, user_id, operation_id, type, priority, principal, balance, cents, cents_per_credit,
        expires_at, description, created_at, stripe_customer_id)
    SELECT v.grant_id, v.user_id, v.operation_id, v.type, v.priority, v.principal, v.principal, v.cents,
        v.cents_per_credit, v.expires_at, v.description, #{now}, v.stripe_customer_id
    FROM unnest(#{grantIds}::bigint[], #{userIds}::text[], #{operationIds}::text[], #{types}::text[],
        #{priorities}::int[], #{principals}::bigint[], #{cents}::bigint[], #{centsPerCredit}::numeric[],
        #{expiresAt}::timestamptz[], #{descriptions}::text[], #{customers}::text[])
        WITH ORDINALITY AS v (grant_id, user_id, operation_id, type, priority, principal, cents, cents_per_credit,
            expires_at, description, stripe_customer_id, ord)
    ORDER BY v.ord""";

  private static final String ALLOCATE_GRANT_IDS = """
    SELECT nextval('grants_grant_id_seq')
    FROM generate_series(1, #{n})""";

  /** Refunds waiting for any of these purchases (by operationId). */
  private static final String PENDING_REFUNDS_FOR = """
    SELECT operation_id
    FROM pending_refunds
    WHERE operation_id = ANY(#{operationIds}::text[])""";

  /** Fails (LB001) when any of these operationIds is stored: a batch refused it without looking it up. */
  private static final String EXPECT_NO_OPERATIONS = """
    SELECT batch_expect(NOT EXISTS (SELECT 1 FROM operations WHERE operation_id = ANY(#{operationIds}::text[])),
        'LB001', 'An operation the batch refused was stored before')""";

  private static final String ADD_USAGES = """
    UPDATE users u
    SET usage_this_cycle = u.usage_this_cycle + v.amount
    FROM unnest(#{usageUserIds}::text[], #{amounts}::bigint[]) AS v (user_id, amount)
    WHERE u.user_id = v.user_id""";

  /**
   * What was decided, in one statement: the operations' records, the journal entries and the grants' balances
   * (each changed only where it still holds what was read, checked by LB002), and the usage. A data-modifying WITH
   * runs every part once, to completion, whether the outer query reads it or not; each part has its own rows, so
   * none needs to see another's.
   */
  private static final String WRITE_DECIDED = "WITH recorded AS (" + INSERT_OPERATIONS + "),\nentries AS ("
      + INSERT_ENTRIES + "),\nused AS (" + ADD_USAGES + "),\nchanged AS (" + CHANGE_BALANCES + ")\n" + EXPECT_CHANGED;

  private static final String GRANT_BY_OPERATION = """
    SELECT %s
    FROM grants
    WHERE operation_id = #{operationId}""".formatted(GRANT_COLUMNS);

  private static final String GRANT_BY_PAYMENT_INTENT = """
    SELECT %s
    FROM grants
    WHERE payment_intent_id = #{paymentIntentId}
      AND type = 'purchase'
    ORDER BY grant_id
    LIMIT 1""".formatted(GRANT_COLUMNS);

  /** Revoked from the grant itself, plus what was taken back from where its credits rolled over to. */
  private static final String REVOKED_SO_FAR = """
    SELECT coalesce((SELECT -sum(delta) FROM journal WHERE grant_id = #{grantId} AND kind = 'revoke'), 0)
        + coalesce((SELECT revoked FROM rollover_sources WHERE source_grant_id = #{grantId}), 0) AS revoked""";

  private static final String REVOKED_ON = """
    SELECT coalesce(-sum(delta), 0) AS revoked
    FROM journal
    WHERE grant_id = #{grantId}
      AND kind = 'revoke'""";

  /** A refund waiting for its purchase; several events of one charge keep the largest amount refunded. */
  private static final String RECORD_PENDING_REFUND = """
    INSERT INTO pending_refunds (charge_id, payment_intent_id, operation_id, amount, amount_refunded,
        event_id, received_at)
    VALUES (#{chargeId}, #{paymentIntentId}, #{operationId}, #{amount}, #{refunded}, #{eventId}, #{now})
    ON CONFLICT (charge_id)
    DO UPDATE SET amount_refunded = GREATEST(pending_refunds.amount_refunded, EXCLUDED.amount_refunded),
        operation_id = COALESCE(EXCLUDED.operation_id, pending_refunds.operation_id),
        event_id = EXCLUDED.event_id""";

  private static final String TAKE_PENDING_REFUNDS = """
    DELETE FROM pending_refunds
    WHERE payment_intent_id = #{paymentIntentId} OR operation_id = #{operationId}
    RETURNING charge_id, amount, amount_refunded""";

  private static final String SET_EXPIRY = """
    UPDATE grants
    SET expires_at = #{expiresAt}
    WHERE grant_id = #{grantId}
      AND closed_at IS NULL""";

  private static final String GRANT_BY_ID = """
    SELECT %s
    FROM grants
    WHERE grant_id = #{grantId}""".formatted(GRANT_COLUMNS);

  /**
   * The rollovers a grant's credits moved through, first to last: for each, every source in spending order and
   * which source the chain came through ({@code via}).
   */
  private static final String ROLLOVER_CHAIN = """
    WITH RECURSIVE chain (depth, via, rollover_grant_id) AS (
      SELECT 1, source_grant_id, rollover_grant_id
      FROM rollover_sources
      WHERE source_grant_id = #{grantId}
      UNION ALL
      SELECT c.depth + 1, s.source_grant_id, s.rollover_grant_id
      FROM chain c
      JOIN rollover_sources s ON s.source_grant_id = c.rollover_grant_id)
    SELECT c.depth, c.via, s.rollover_grant_id, s.source_grant_id, s.credits, s.revoked
    FROM chain c
    JOIN rollover_sources s ON s.rollover_grant_id = c.rollover_grant_id
    ORDER BY c.depth, s.position""";

  private static final String ADD_REVOKED = """
    UPDATE rollover_sources
    SET revoked = revoked + #{credits}
    WHERE source_grant_id = ANY(#{sources}::bigint[])""";

  private static final String REVOKE_ROLLED_OVER = """
    UPDATE grants
    SET closed_by = 'revoke', close_reason = #{reason}, description = #{description}
    WHERE grant_id = #{grantId}
      AND closed_by = 'rollover'""";

  private static final String CLOSE_ROLLED_OVER = """
    UPDATE grants g
    SET closed_at = #{now}, closed_by = 'rollover', close_reason = v.reason
    FROM unnest(#{ids}::bigint[], #{reasons}::text[]) AS v (grant_id, reason)
    WHERE g.grant_id = v.grant_id
      AND g.closed_at IS NULL""";

  private static final String INSERT_ROLLOVER_SOURCES = """
    INSERT INTO rollover_sources (rollover_grant_id, position, source_grant_id, credits)
    SELECT v.rollover_grant_id, v.position, v.source_grant_id, v.credits
    FROM unnest(#{rolloverGrantIds}::bigint[], #{positions}::int[], #{sources}::bigint[], #{credits}::bigint[])
        AS v (rollover_grant_id, position, source_grant_id, credits)""";

  /** Referrals each user took part in, as referrer or as referred (Codebuff's calculateTotalReferralBonus). */
  private static final String REFERRAL_COUNTS_OF = """
    SELECT user_id, count(*) AS referrals
    FROM (
      SELECT referrer_id AS user_id
      FROM referrals
      WHERE referrer_id = ANY(#{userIds}::text[])
      UNION ALL
      SELECT referred_id
      FROM referrals
      WHERE referred_id = ANY(#{userIds}::text[])) r
    GROUP BY user_id""";

  private static final String FINISH_RESETS = """
    UPDATE users u
    SET usage_this_cycle = 0, next_quota_reset = v.next, updated_at = #{now}
    FROM unnest(#{userIds}::text[], #{nexts}::timestamptz[]) AS v (user_id, next)
    WHERE u.user_id = v.user_id""";

  private static final String CLOSE_GRANT = """
    UPDATE grants
    SET closed_at = #{now}, closed_by = #{closedBy}, close_reason = #{reason}, description = #{description}
    WHERE grant_id = #{grantId}
      AND closed_at IS NULL""";

  private static final String LIST_GRANTS = """
    SELECT %s
    FROM grants
    WHERE user_id = #{userId}
      AND grant_id < #{before}
    ORDER BY grant_id DESC
    LIMIT #{limit}""".formatted(GRANT_COLUMNS);

  private static final String JOURNAL = """
    SELECT j.entry_id, j.grant_id, g.operation_id AS grant_operation_id, g.type, j.operation_id, j.kind,
        j.delta, j.balance_after, j.description, j.created_at
    FROM journal j
    JOIN grants g ON g.grant_id = j.grant_id
    WHERE j.user_id = #{userId}
      AND j.entry_id < #{before}
    ORDER BY j.entry_id DESC
    LIMIT #{limit}""";

  private static final String REFERRAL_COUNTS = """
    SELECT count(*) FILTER (WHERE referrer_id = #{referrerId}) AS given,
        count(*) FILTER (WHERE referred_id = #{referredId}) AS received,
        count(*) FILTER (WHERE referrer_id = #{referredId} AND referred_id = #{referrerId}) AS reverse
    FROM referrals
    WHERE referrer_id IN (#{referrerId}, #{referredId}) OR referred_id = #{referredId}""";

  private static final String INSERT_REFERRAL = """
    INSERT INTO referrals (operation_id, referrer_id, referred_id, credits, created_at)
    VALUES (#{operationId}, #{referrerId}, #{referredId}, #{credits}, #{now})""";

  /** A stored operation: what was asked (canonical text) and what was answered. */
  public record StoredOperation(String kind, String request, int status, JsonObject response) {
  }

  /** A user row locked for this transaction, and the operation already stored under the id, if any. */
  public record LockedUser(User user, Optional<StoredOperation> operation) {
  }

  public record NewGrant(String userId, String operationId, GrantType type, int priority, long amount, long cents,
                         BigDecimal centsPerCredit, Instant expiresAt, String description, String stripeCustomerId,
                         String paymentIntentId, String stripeGrantId) {
  }

  /** The user locked, with what is stored under {@code operationId}; empty when there is no such user. */
  public Future<Optional<LockedUser>> lockUserWithOperation(SqlClient conn, String userId, String operationId) {
    return Templates.forQuery(conn, LOCK_USER_WITH_OPERATION)
        .execute(Map.of("userId", userId, "operationId", operationId))
        .map(rows -> first(rows).map(row -> new LockedUser(UserStore.toUser(row), operationOf(row))));
  }

  public Future<Optional<StoredOperation>> findOperation(SqlClient conn, String operationId) {
    return Templates.forQuery(conn, FIND_OPERATION).execute(Map.of("operationId", operationId))
        .map(rows -> first(rows).flatMap(LedgerStore::operationOf));
  }

  private static Optional<StoredOperation> operationOf(Row row) {
    String kind = row.getString("op_kind");
    if (kind == null) {
      return Optional.empty();
    }
    Object response = row.getValue("op_response");
    return Optional.of(new StoredOperation(kind, row.getString("op_request"), row.getShort("op_status"),
        response instanceof JsonObject j ? j : new JsonObject(String.valueOf(response))));
  }

  /** What a balance is computed from: the user's usage this cycle, its next reset and its live grants. */
  public record BalanceSnapshot(long usageThisCycle, Instant nextQuotaReset, long held, List<Grant> live) {
  }

  public Future<Optional<BalanceSnapshot>> balanceSnapshot(SqlClient client, String userId, Instant now) {
    return client.preparedQuery(BALANCE_SNAPSHOT).execute(Tuple.of(userId, sql(now)))
        .map(rows -> first(rows).map(firstRow -> {
          List<Grant> live = new ArrayList<>(rows.size());
          for (Row r : rows) {
            if (r.getValue("grant_id") != null) {
              live.add(grant(r));
            }
          }
          return new BalanceSnapshot(firstRow.getLong("u_usage"), Rows.instant(firstRow, "u_next_reset"),
              firstRow.getLong("u_held"), live);
        }));
  }

  /** {@link #GRANT_COLUMNS}, each column prefixed (a table alias). */
  public static String prefixed(String prefix) {
    return prefix + GRANT_COLUMNS.replaceAll(",\\s+", ", " + prefix);
  }

  public Future<List<Grant>> liveGrants(SqlClient conn, String userId, Instant now) {
    return Templates.forQuery(conn, LIVE_GRANTS).execute(Map.of("userId", userId, "now", sql(now)))
        .map(LedgerStore::grants);
  }

  /** Inserts the grant and its first journal entry ({@code kind} grant or rollover_in, delta = principal). */
  public Future<Grant> insertGrant(SqlClient conn, NewGrant g, JournalKind kind, Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("userId", g.userId());
    p.put("operationId", g.operationId());
    p.put("type", g.type().wire());
    p.put("priority", g.priority());
    p.put("amount", g.amount());
    p.put("cents", g.cents());
    p.put("centsPerCredit", Numeric.create(g.centsPerCredit()));
    p.put("expiresAt", sql(g.expiresAt()));
    p.put("description", g.description());
    p.put("kind", kind.wire());
    p.put("now", sql(now));
    p.put("stripeCustomerId", g.stripeCustomerId());
    p.put("paymentIntentId", g.paymentIntentId());
    p.put("stripeGrantId", g.stripeGrantId());
    return Templates.forQuery(conn, INSERT_GRANT).execute(p).map(rows -> grant(rows.iterator().next()));
  }

  /**
   * Writes a journal batch (of one user or many): the grants' balances (only if they still hold what was read
   * under the lock) and the journal entries, with one statement.
   */
  public Future<Void> apply(SqlClient conn, JournalBatch batch, Instant now) {
    return writeDecided(conn, List.of(), batch, Map.of(), now);
  }

  /**
   * Writes what was decided with one statement ({@link #WRITE_DECIDED}): {@code operations}' records, the
   * {@code journal} and the grants' balances, and the {@code usage} this cycle by user. Nothing to write: no
   * statement.
   */
  public Future<Void> writeDecided(SqlClient conn, List<NewOperation> operations, JournalBatch journal,
                                   Map<String, Long> usage, Instant now) {
    if (operations.isEmpty() && journal.isEmpty() && usage.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<String, Object> p = operationParams(operations, now);
    p.putAll(entryParams(journal, now));
    p.putAll(balanceParams(journal));
    p.putAll(usageParams(usage));
    return Templates.forQuery(conn, WRITE_DECIDED).execute(p).mapEmpty();
  }

  private static Map<String, Object> entryParams(JournalBatch batch, Instant now) {
    List<JournalBatch.Entry> entries = batch.entries();
    int m = entries.size();
    String[] users = new String[m];
    Long[] grantIds = new Long[m];
    String[] operationIds = new String[m];
    String[] kinds = new String[m];
    Long[] deltas = new Long[m];
    Long[] afters = new Long[m];
    String[] descriptions = new String[m];
    for (int k = 0; k < m; k++) {
      JournalBatch.Entry e = entries.get(k);
      users[k] = e.userId();
      grantIds[k] = e.grantId();
      operationIds[k] = e.operationId();
      kinds[k] = e.kind().wire();
      deltas[k] = e.delta();
      afters[k] = e.balanceAfter();
      descriptions[k] = e.description();
    }
    Map<String, Object> p = new HashMap<>();
    p.put("now", sql(now));
    p.put("entryUserIds", users);
    p.put("grantIds", grantIds);
    p.put("entryOperationIds", operationIds);
    p.put("entryKinds", kinds);
    p.put("deltas", deltas);
    p.put("afters", afters);
    p.put("descriptions", descriptions);
    return p;
  }

  /** The balances to write (as read and as the batch leaves them), with each grant's owner. */
  private static Map<String, Object> balanceParams(JournalBatch batch) {
    Map<Long, String> owners = new HashMap<>();
    batch.entries().forEach(e -> owners.put(e.grantId(), e.userId()));
    Map<Long, JournalBatch.BalanceChange> changes = batch.balancesToWrite();
    int n = changes.size();
    Long[] ids = new Long[n];
    String[] users = new String[n];
    Long[] olds = new Long[n];
    Long[] news = new Long[n];
    int i = 0;
    for (Map.Entry<Long, JournalBatch.BalanceChange> e : changes.entrySet()) {
      ids[i] = e.getKey();
      users[i] = owners.get(e.getKey());
      olds[i] = e.getValue().before();
      news[i] = e.getValue().after();
      i++;
    }
    return Map.of("ids", ids, "balanceUserIds", users, "olds", olds, "news", news, "n", n);
  }

  /** An operation to record: what was asked (canonical text) and what was answered. */
  public record NewOperation(String operationId, String userId, OperationKind kind, String request, int status,
                             JsonObject response) {
    /** The record as a later read of it finds it. */
    public StoredOperation stored() {
      return new StoredOperation(kind.wire(), request, status, response);
    }
  }

  public Future<Void> insertOperation(SqlClient conn, String operationId, String userId, OperationKind kind,
                                      String request, int status, JsonObject response, Instant now) {
    return insertOperations(conn, List.of(new NewOperation(operationId, userId, kind, request, status, response)), now);
  }

  /** Records operations, in order, with one statement. */
  public Future<Void> insertOperations(SqlClient conn, List<NewOperation> operations, Instant now) {
    if (operations.isEmpty()) {
      return Future.succeededFuture();
    }
    return Templates.forUpdate(conn, INSERT_OPERATIONS).execute(operationParams(operations, now)).mapEmpty();
  }

  /** Fails the transaction (LB001) when any of {@code operationIds} is stored. */
  public Future<Void> expectNoOperations(SqlClient conn, Collection<String> operationIds) {
    return Templates.forQuery(conn, EXPECT_NO_OPERATIONS)
        .execute(Map.of("operationIds", operationIds.toArray(new String[0]))).mapEmpty();
  }

  private static Map<String, Object> operationParams(List<NewOperation> operations, Instant now) {
    int n = operations.size();
    String[] ids = new String[n];
    String[] users = new String[n];
    String[] kinds = new String[n];
    String[] requests = new String[n];
    Short[] statuses = new Short[n];
    String[] responses = new String[n];
    for (int i = 0; i < n; i++) {
      NewOperation o = operations.get(i);
      ids[i] = o.operationId();
      users[i] = o.userId();
      kinds[i] = o.kind().wire();
      requests[i] = o.request();
      statuses[i] = (short) o.status();
      responses[i] = o.response().encode();
    }
    Map<String, Object> p = new HashMap<>();
    p.put("operationIds", ids);
    p.put("userIds", users);
    p.put("kinds", kinds);
    p.put("requests", requests);
    p.put("statuses", statuses);
    p.put("responses", responses);
    p.put("now", sql(now));
    return p;
  }

  /** The users' usage this cycle to add, by user. */
  private static Map<String, Object> usageParams(Map<String, Long> amounts) {
    String[] users = amounts.keySet().toArray(new String[0]);
    Long[] values = new Long[users.length];
    for (int i = 0; i < users.length; i++) {
      values[i] = amounts.get(users[i]);
    }
    return Map.of("usageUserIds", users, "amounts", values);
  }

  /** {@code n} fresh grant ids, for the grants a write batch decides in memory. */
  public Future<List<Long>> allocateGrantIds(SqlClient conn, int n) {
    return Templates.forQuery(conn, ALLOCATE_GRANT_IDS).execute(Map.of("n", n)).map(rows -> {
      List<Long> ids = new ArrayList<>(n);
      rows.forEach(r -> ids.add(r.getLong(0)));
      return ids;
    });
  }

  /** Inserts grants decided in memory (balance = principal); one whose operationId exists fails the statement. */
  public Future<Void> insertGrants(SqlClient conn, List<Grant> grants, Instant now) {
    if (grants.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = grants.size();
    Long[] ids = new Long[n];
    String[] users = new String[n];
    String[] operationIds = new String[n];
    String[] types = new String[n];
    Integer[] priorities = new Integer[n];
    Long[] principals = new Long[n];
    Long[] cents = new Long[n];
    Numeric[] prices = new Numeric[n];
    OffsetDateTime[] expiries = new OffsetDateTime[n];
    String[] descriptions = new String[n];
    String[] customers = new String[n];
    for (int i = 0; i < n; i++) {
      Grant g = grants.get(i);
      ids[i] = g.grantId();
      users[i] = g.userId();
      operationIds[i] = g.operationId();
      types[i] = g.type().wire();
      priorities[i] = g.priority();
      principals[i] = g.principal();
      cents[i] = g.cents();
      prices[i] = Numeric.create(g.centsPerCredit());
      expiries[i] = sql(g.expiresAt());
      descriptions[i] = g.description();
      customers[i] = g.stripeCustomerId();
    }
    Map<String, Object> p = new HashMap<>();
    p.put("grantIds", ids);
    p.put("userIds", users);
    p.put("operationIds", operationIds);
    p.put("types", types);
    p.put("priorities", priorities);
    p.put("principals", principals);
    p.put("cents", cents);
    p.put("centsPerCredit", prices);
    p.put("expiresAt", expiries);
    p.put("descriptions", descriptions);
    p.put("customers", customers);
    p.put("now", sql(now));
    return Templates.forUpdate(conn, INSERT_GRANTS).execute(p).mapEmpty();
  }

  /** Which of these purchases (by operationId) have refunds waiting for them. */
  public Future<Set<String>> pendingRefundsFor(SqlClient conn, Collection<String> operationIds) {
    return Templates.forQuery(conn, PENDING_REFUNDS_FOR)
        .execute(Map.of("operationIds", operationIds.toArray(new String[0])))
        .map(rows -> {
          Set<String> out = new HashSet<>();
          rows.forEach(r -> out.add(r.getString(0)));
          return out;
        });
  }

  /** Locks the users that exist among {@code userIds}, in user-id order, and answers them by id. */
  public Future<Map<String, User>> lockUsers(SqlClient conn, Collection<String> userIds) {
    return Templates.forQuery(conn, LOCK_USERS).execute(Map.of("userIds", userIds.toArray(new String[0])))
        .map(rows -> {
          Map<String, User> out = new HashMap<>();
          rows.forEach(r -> out.put(r.getString("user_id"), UserStore.toUser(r)));
          return out;
        });
  }

  /** The operations stored under any of {@code operationIds}, by id. */
  public Future<Map<String, StoredOperation>> findOperations(SqlClient conn, Collection<String> operationIds) {
    return Templates.forQuery(conn, FIND_OPERATIONS)
        .execute(Map.of("operationIds", operationIds.toArray(new String[0])))
        .map(rows -> {
          Map<String, StoredOperation> out = new HashMap<>();
          rows.forEach(r -> operationOf(r).ifPresent(op -> out.put(r.getString("operation_id"), op)));
          return out;
        });
  }

  /** The live grants (see {@link #liveGrants}) of each of the users, by user id. */
  public Future<Map<String, List<Grant>>> liveGrants(SqlClient conn, Collection<String> userIds, Instant now) {
    return Templates.forQuery(conn, LIVE_GRANTS_OF)
        .execute(Map.of("userIds", userIds.toArray(new String[0]), "now", sql(now)))
        .map(rows -> {
          Map<String, List<Grant>> out = new HashMap<>();
          for (Row r : rows) {
            Grant g = grant(r);
            out.computeIfAbsent(g.userId(), id -> new ArrayList<>()).add(g);
          }
          return out;
        });
  }

  /** The users the grants made by {@code operationIds} belong to, by the grants' operationId. */
  public Future<Map<String, String>> grantOwners(SqlClient conn, Collection<String> operationIds) {
    return Templates.forQuery(conn, GRANT_OWNERS)
        .execute(Map.of("operationIds", operationIds.toArray(new String[0])))
        .map(rows -> {
          Map<String, String> out = new HashMap<>();
          rows.forEach(r -> out.put(r.getString("operation_id"), r.getString("user_id")));
          return out;
        });
  }

  public Future<Optional<Grant>> grantByOperation(SqlClient conn, String operationId) {
    return Templates.forQuery(conn, GRANT_BY_OPERATION).execute(Map.of("operationId", operationId))
        .map(rows -> first(rows).map(LedgerStore::grant));
  }

  public Future<Optional<Grant>> grantByPaymentIntent(SqlClient conn, String paymentIntentId) {
    return Templates.forQuery(conn, GRANT_BY_PAYMENT_INTENT).execute(Map.of("paymentIntentId", paymentIntentId))
        .map(rows -> first(rows).map(LedgerStore::grant));
  }

  /** Credits revoked from the grant so far, also where they rolled over to (refunds are cumulative). */
  public Future<Long> revokedSoFar(SqlClient conn, long grantId) {
    return Templates.forQuery(conn, REVOKED_SO_FAR).execute(Map.of("grantId", grantId))
        .map(rows -> rows.iterator().next().getLong("revoked"));
  }

  public Future<Void> closeGrant(SqlClient conn, Grant grant, CloseReason closedBy, String reason, String description,
                                 Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("grantId", grant.grantId());
    p.put("closedBy", closedBy.stored());
    p.put("reason", reason);
    p.put("description", description);
    p.put("now", sql(now));
    return Templates.forUpdate(conn, CLOSE_GRANT).execute(p).mapEmpty();
  }

  /**
   * A rollover grant and the grants its credits came from, in spending order (their balances as they were before
   * they rolled over).
   */
  public record RolledOver(long rolloverGrantId, String rolloverOperationId, List<Grant> sources) {
  }

  /** Closes the grants whose credits rolled over, and records where each rollover grant's credits came from. */
  public Future<Void> rollOver(SqlClient conn, List<RolledOver> rollovers, Instant now) {
    List<Long> closed = new ArrayList<>();
    List<String> reasons = new ArrayList<>();
    List<Long> into = new ArrayList<>();
    List<Integer> positions = new ArrayList<>();
    List<Long> credits = new ArrayList<>();
    for (RolledOver r : rollovers) {
      for (int i = 0; i < r.sources().size(); i++) {
        Grant source = r.sources().get(i);
        closed.add(source.grantId());
        reasons.add("rolled over into " + r.rolloverOperationId());
        into.add(r.rolloverGrantId());
        positions.add(i);
        credits.add(source.balance());
      }
    }
    if (closed.isEmpty()) {
      return Future.succeededFuture();
    }
    Long[] ids = closed.toArray(new Long[0]);
    return Future.all(
        Templates.forUpdate(conn, CLOSE_ROLLED_OVER)
            .execute(Map.of("ids", ids, "reasons", reasons.toArray(new String[0]), "now", sql(now))),
        Templates.forUpdate(conn, INSERT_ROLLOVER_SOURCES).execute(Map.of(
            "rolloverGrantIds", into.toArray(new Long[0]), "positions", positions.toArray(new Integer[0]),
            "sources", ids, "credits", credits.toArray(new Long[0])))).mapEmpty();
  }

  /** Referrals each of these users took part in, as referrer or as referred (users with none are left out). */
  public Future<Map<String, Long>> referralCounts(SqlClient conn, Collection<String> userIds) {
    return Templates.forQuery(conn, REFERRAL_COUNTS_OF)
        .execute(Map.of("userIds", userIds.toArray(new String[0])))
        .map(rows -> {
          Map<String, Long> out = new HashMap<>();
          rows.forEach(r -> out.put(r.getString("user_id"), r.getLong("referrals")));
          return out;
        });
  }

  /** Starts these users' next cycles: usage back to zero, the next reset as each user holds it. */
  public Future<Void> finishResets(SqlClient conn, List<User> started, Instant now) {
    if (started.isEmpty()) {
      return Future.succeededFuture();
    }
    String[] ids = started.stream().map(User::userId).toArray(String[]::new);
    OffsetDateTime[] nexts = started.stream().map(u -> sql(u.nextQuotaReset())).toArray(OffsetDateTime[]::new);
    return Templates.forUpdate(conn, FINISH_RESETS).execute(Map.of("userIds", ids, "nexts", nexts, "now", sql(now)))
        .mapEmpty();
  }

  /** Credits revoked from this grant itself (journalled on it). */
  public Future<Long> revokedOn(SqlClient conn, long grantId) {
    return Templates.forQuery(conn, REVOKED_ON).execute(Map.of("grantId", grantId))
        .map(rows -> rows.iterator().next().getLong("revoked"));
  }

  /** A refund of a charge whose purchase grant does not exist yet. */
  public record PendingRefund(String chargeId, long amount, long refunded) {
  }

  public Future<Void> recordPendingRefund(SqlClient conn, String chargeId, String paymentIntentId, String operationId,
                                          long amount, long refunded, String eventId, Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("chargeId", chargeId);
    p.put("paymentIntentId", paymentIntentId);
    p.put("operationId", operationId);
    p.put("amount", amount);
    p.put("refunded", refunded);
    p.put("eventId", eventId);
    p.put("now", sql(now));
    return Templates.forUpdate(conn, RECORD_PENDING_REFUND).execute(p).mapEmpty();
  }

  /** Removes and answers the refunds that were waiting for this purchase. */
  public Future<List<PendingRefund>> takePendingRefunds(SqlClient conn, String paymentIntentId, String operationId) {
    Map<String, Object> p = new HashMap<>();
    p.put("paymentIntentId", paymentIntentId);
    p.put("operationId", operationId);
    return Templates.forQuery(conn, TAKE_PENDING_REFUNDS).execute(p).map(rows -> {
      List<PendingRefund> out = new ArrayList<>();
      rows.forEach(r -> out.add(new PendingRefund(r.getString("charge_id"), r.getLong("amount"),
          r.getLong("amount_refunded"))));
      return out;
    });
  }

  /** Moves an open grant's expiry (a grant imported from Stripe follows its Stripe grant). */
  public Future<Void> setExpiry(SqlClient conn, long grantId, Instant expiresAt) {
    Map<String, Object> p = new HashMap<>();
    p.put("grantId", grantId);
    p.put("expiresAt", sql(expiresAt));
    return Templates.forUpdate(conn, SET_EXPIRY).execute(p).mapEmpty();
  }

  public Future<Optional<Grant>> grantById(SqlClient conn, long grantId) {
    return Templates.forQuery(conn, GRANT_BY_ID).execute(Map.of("grantId", grantId))
        .map(rows -> first(rows).map(LedgerStore::grant));
  }

  /** A grant's way through rollovers: the rollover it is in, the one that one moved into, and so on. */
  public record ChainLink(long rolloverGrantId, long via, List<Long> sourceIds, List<RolloverShares.Share> shares) {
    public RolloverShares.Level level() {
      return new RolloverShares.Level(shares, sourceIds.indexOf(via));
    }
  }

  public Future<List<ChainLink>> rolloverChain(SqlClient conn, long grantId) {
    return Templates.forQuery(conn, ROLLOVER_CHAIN).execute(Map.of("grantId", grantId)).map(rows -> {
      List<ChainLink> chain = new ArrayList<>();
      int depth = 0;
      for (Row r : rows) {
        if (r.getInteger("depth") != depth) {
          depth = r.getInteger("depth");
          chain.add(new ChainLink(r.getLong("rollover_grant_id"), r.getLong("via"), new ArrayList<>(), new ArrayList<>()));
        }
        ChainLink link = chain.get(chain.size() - 1);
        link.sourceIds().add(r.getLong("source_grant_id"));
        link.shares().add(new RolloverShares.Share(r.getLong("credits"), r.getLong("revoked")));
      }
      return chain;
    });
  }

  /** Counts {@code credits} taken back from each of these sources in the rollover it moved into. */
  public Future<Void> addRevoked(SqlClient conn, List<Long> sourceIds, long credits) {
    return Templates.forUpdate(conn, ADD_REVOKED)
        .execute(Map.of("sources", sourceIds.toArray(new Long[0]), "credits", credits)).mapEmpty();
  }

  /** A rolled-over grant whose credits were all taken back is revoked from now on. */
  public Future<Void> revokeRolledOver(SqlClient conn, Grant grant, String reason, String description) {
    return Templates.forUpdate(conn, REVOKE_ROLLED_OVER).execute(Map.of("grantId", grant.grantId(),
        "reason", reason, "description", description)).mapEmpty();
  }

  public Future<List<Grant>> listGrants(SqlClient conn, String userId, long before, int limit) {
    return Templates.forQuery(conn, LIST_GRANTS)
        .execute(Map.of("userId", userId, "before", before, "limit", limit))
        .map(LedgerStore::grants);
  }

  public Future<List<JournalEntry>> journal(SqlClient conn, String userId, long before, int limit) {
    return Templates.forQuery(conn, JOURNAL)
        .execute(Map.of("userId", userId, "before", before, "limit", limit))
        .map(rows -> {
          List<JournalEntry> out = new ArrayList<>(rows.size());
          for (Row r : rows) {
            out.add(new JournalEntry(r.getLong("entry_id"), r.getLong("grant_id"), r.getString("grant_operation_id"),
                GrantType.fromWire(r.getString("type")), r.getString("operation_id"),
                JournalKind.fromWire(r.getString("kind")), r.getLong("delta"), r.getLong("balance_after"),
                r.getString("description"), r.getOffsetDateTime("created_at").toInstant()));
          }
          return out;
        });
  }

  /**
   * @param given referrals the referrer has made
   * @param alreadyReferred whether the referred user was referred before
   * @param reverse whether the referred user once referred the referrer
   */
  public record ReferralCounts(long given, boolean alreadyReferred, boolean reverse) {
  }

  public Future<ReferralCounts> referralCounts(SqlClient conn, String referrerId, String referredId) {
    return Templates.forQuery(conn, REFERRAL_COUNTS)
        .execute(Map.of("referrerId", referrerId, "referredId", referredId))
        .map(rows -> {
          Row r = rows.iterator().next();
          return new ReferralCounts(r.getLong("given"), r.getLong("received") > 0, r.getLong("reverse") > 0);
        });
  }

  public Future<Void> insertReferral(SqlClient conn, String operationId, String referrerId, String referredId,
                                     long credits, Instant now) {
    return Templates.forUpdate(conn, INSERT_REFERRAL).execute(Map.of("operationId", operationId,
        "referrerId", referrerId, "referredId", referredId, "credits", credits, "now", sql(now))).mapEmpty();
  }

  static List<Grant> grants(RowSet<Row> rows) {
    List<Grant> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      out.add(grant(r));
    }
    return out;
  }

  public static Grant grant(Row r) {
    return new Grant(
        r.getLong("grant_id"),
        r.getString("user_id"),
        r.getString("operation_id"),
        GrantType.fromWire(r.getString("type")),
        r.getInteger("priority"),
        r.getLong("principal"),
        r.getLong("balance"),
        r.getLong("cents"),
        r.getBigDecimal("cents_per_credit"),
        Rows.instant(r, "expires_at"),
        r.getString("description"),
        Rows.instant(r, "created_at"),
        Rows.instant(r, "closed_at"),
        CloseReason.fromStored(r.getString("closed_by")),
        r.getString("close_reason"),
        r.getString("stripe_customer_id"),
        r.getString("stripe_grant_id"),
        Rows.instant(r, "stripe_voided_at"),
        r.getString("payment_intent_id"));
  }

}
