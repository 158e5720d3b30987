package io.creditledger.store;

import io.creditledger.db.Rows;
import io.creditledger.db.Templates;
import io.creditledger.domain.Grant;
import io.creditledger.domain.MirrorDrift;
import io.creditledger.domain.OutboxAction;
import io.creditledger.domain.OutboxStatus;
import io.creditledger.domain.ReconcileRun;
import io.creditledger.stripe.CreditGrantPayload;
import io.creditledger.stripe.OutboxRow;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.creditledger.db.Rows.first;
import static io.creditledger.time.Now.sql;

/** The Stripe outbox's SQL, in one place. */
public final class OutboxStore {
  /**
   * The channel PostgreSQL notifies when outbox rows are ready: the trigger of migration 003 on insert, and
   * {@link #retry} when a row is put back in line. The relays listen on it.
   */
  public static final String WAKE_CHANNEL = "stripe_outbox";

  private static final String COLUMNS = """
    o.outbox_id, o.grant_id, o.user_id, o.action, o.idempotency_key, o.payload, o.status, o.attempts,
    o.next_attempt_at, o.last_error, o.stripe_object_id, o.created_at, o.delivered_at, o.first_attempt_at,
    g.operation_id AS grant_operation_id, g.stripe_grant_id""";

  private static final String ENQUEUE = """
    INSERT INTO stripe_outbox (grant_id, user_id, action, idempotency_key, payload, next_attempt_at, created_at,
        updated_at)
    SELECT v.grant_id, v.user_id, v.action, v.idempotency_key, v.payload::jsonb, #{now}, #{now}, #{now}
    FROM unnest(#{grantIds}::bigint[], #{userIds}::text[], #{actions}::text[], #{keys}::text[], #{payloads}::text[])
        WITH ORDINALITY AS v (grant_id, user_id, action, idempotency_key, payload, ord)
    ORDER BY v.ord
    ON CONFLICT (idempotency_key) DO NOTHING""";

  private static final String FROM = "FROM stripe_outbox o LEFT JOIN grants g ON g.grant_id = o.grant_id";

  /**
   * Claims due rows for one relay instance: pending, due, not leased by another instance, and not behind an
   * undelivered earlier row of the same grant (so a void never overtakes its create). SKIP LOCKED lets several
   * instances claim side by side without waiting on, or taking, each other's rows.
   */
  private static final String CLAIM = """
    WITH due AS (
      SELECT c.outbox_id
      FROM stripe_outbox c
      WHERE c.status = 'pending'
        AND c.next_attempt_at <= #{now}
        AND (c.lease_until IS NULL OR c.lease_until < #{now})
        AND NOT EXISTS (
          SELECT 1
          FROM stripe_outbox p
          WHERE p.grant_id = c.grant_id
            AND p.outbox_id < c.outbox_id
            AND p.status <> 'delivered')
      ORDER BY c.next_attempt_at, c.outbox_id
      LIMIT #{limit}
      FOR UPDATE SKIP LOCKED),
    claimed AS (
      UPDATE stripe_outbox o
      SET lease_owner = #{owner}, lease_until = #{leaseUntil}, updated_at = #{now},
          first_attempt_at = COALESCE(o.first_attempt_at, #{now})
      FROM due
      WHERE o.outbox_id = due.outbox_id
      RETURNING o.*)
    SELECT %s
    FROM claimed o
    LEFT JOIN grants g ON g.grant_id = o.grant_id
    ORDER BY o.outbox_id""".formatted(COLUMNS);

  /**
   * Marks delivered rows and records on their grants what Stripe now holds, for a batch in one statement. Each
   * row's {@code effect} on its grant: {@code created} (the grant's mirror, unless it already has another),
   * {@code replaced} (a replacement mirror takes over and is live), {@code voided} (the grant's mirror, if the
   * voided grant was it), or null (usage, or no grant).
   */
  private static final String DELIVERED = """
    WITH d AS (
      SELECT *
      FROM unnest(#{ids}::bigint[], #{grantIds}::bigint[], #{stripeIds}::text[], #{effects}::text[])
          AS d (outbox_id, grant_id, stripe_id, effect)),
    outbox AS (
      UPDATE stripe_outbox o
      SET status = 'delivered', delivered_at = #{now}, updated_at = #{now}, attempts = o.attempts + 1,
          stripe_object_id = d.stripe_id, last_error = NULL, lease_owner = NULL, lease_until = NULL
      FROM d
      WHERE o.outbox_id = d.outbox_id
        AND o.status <> 'delivered'),
    created AS (
      UPDATE grants g
      SET stripe_grant_id = d.stripe_id
      FROM d
      WHERE d.effect = 'created'
        AND g.grant_id = d.grant_id
        AND (g.stripe_grant_id IS NULL OR g.stripe_grant_id = d.stripe_id)),
    replaced AS (
      UPDATE grants g
      SET stripe_grant_id = d.stripe_id, stripe_voided_at = NULL
      FROM d
      WHERE d.effect = 'replaced'
        AND g.grant_id = d.grant_id)
    UPDATE grants g
    SET stripe_voided_at = #{now}
    FROM d
    WHERE d.effect = 'voided'
      AND g.grant_id = d.grant_id
      AND g.stripe_voided_at IS NULL
      AND g.stripe_grant_id = d.stripe_id""";

  private static final String GRANT_CREATED = """
    UPDATE grants
    SET stripe_grant_id = #{stripeId}
    WHERE grant_id = #{grantId}
      AND (stripe_grant_id IS NULL OR stripe_grant_id = #{stripeId})""";

  /** A replacement mirror takes over: the grant points at it, and it is live. */
  private static final String GRANT_REPLACED = """
    UPDATE grants
    SET stripe_grant_id = #{stripeId}, stripe_voided_at = NULL
    WHERE grant_id = #{grantId}""";

  private static final String GRANT_VOIDED = """
    UPDATE grants
    SET stripe_voided_at = #{now}
    WHERE grant_id = #{grantId}
      AND stripe_voided_at IS NULL""";

  private static final String FAILED = """
    UPDATE stripe_outbox
    SET attempts = attempts + 1, last_error = #{error},
        status = CASE WHEN #{dead}::boolean THEN 'dead' ELSE 'pending' END,
        next_attempt_at = #{nextAttemptAt}, lease_owner = NULL, lease_until = NULL, updated_at = #{now}
    WHERE outbox_id = #{id}
      AND status = 'pending'
      AND lease_owner = #{owner}""";

  private static final String RELEASE = """
    UPDATE stripe_outbox
    SET next_attempt_at = #{nextAttemptAt}, lease_owner = NULL, lease_until = NULL, updated_at = #{now}
    WHERE outbox_id = #{id}
      AND status = 'pending'
      AND lease_owner = #{owner}""";

  private static final String LIST = """
    SELECT %s
    %s
    WHERE (#{status}::text IS NULL OR o.status = #{status})
      AND o.outbox_id < #{before}
    ORDER BY o.outbox_id DESC
    LIMIT #{limit}""".formatted(COLUMNS, FROM);

  private static final String RETRY = """
    UPDATE stripe_outbox
    SET status = 'pending', attempts = 0, next_attempt_at = #{now}, lease_owner = NULL, lease_until = NULL,
        updated_at = #{now}
    WHERE outbox_id = #{id}
      AND status <> 'delivered'""";

  private static final String FIND = """
    SELECT %s
    %s
    WHERE o.outbox_id = #{id}""".formatted(COLUMNS, FROM);

  private static final String PRUNE = """
    DELETE FROM stripe_outbox
    WHERE outbox_id IN (
      SELECT outbox_id
      FROM stripe_outbox
      WHERE status = 'delivered'
        AND delivered_at < #{cutoff}
      ORDER BY delivered_at
      LIMIT #{limit})""";

  private static final String OPEN_ROWS = """
    SELECT grant_id, bool_or(status = 'dead') AS dead
    FROM stripe_outbox
    WHERE grant_id = ANY(#{ids}::bigint[])
      AND status <> 'delivered'
    GROUP BY grant_id""";

  private static final String CONFIRM_CREATE = """
    UPDATE stripe_outbox
    SET status = 'delivered', delivered_at = #{now}, updated_at = #{now}, stripe_object_id = #{stripeId},
        last_error = NULL, lease_owner = NULL, lease_until = NULL
    WHERE outbox_id = #{id}
      AND status <> 'delivered'""";

  /** A replacement's id becomes the grant's only when no later create (a later replacement) exists. */
  private static final String GRANT_REPLACED_IF_NEWEST = """
    %s
      AND NOT EXISTS (
        SELECT 1
        FROM stripe_outbox o
        WHERE o.grant_id = #{grantId}
          AND o.action = 'create_credit_grant'
          AND o.outbox_id > #{id})""".formatted(GRANT_REPLACED);

  private static final String FIND_BY_KEY = """
    SELECT %s
    %s
    WHERE o.idempotency_key = #{key}""".formatted(COLUMNS, FROM);

  // ---- reconciliation with Stripe

  /** The Stripe customers mirrored grants belong to (of one user, or all), a page at a time. */
  private static final String MIRRORED_CUSTOMERS = """
    SELECT DISTINCT stripe_customer_id
    FROM grants
    WHERE stripe_customer_id IS NOT NULL
      AND stripe_customer_id > #{after}
      AND (#{userId}::text IS NULL OR user_id = #{userId})
    ORDER BY 1
    LIMIT #{limit}""";

  /** A customer's mirrored grants, with what the comparison needs to know about each one's outbox rows. */
  private static final String LOCAL_MIRRORS = """
    SELECT %s,
      coalesce((SELECT -sum(j.delta) FROM journal j WHERE j.grant_id = g.grant_id AND j.kind = 'revoke'), 0)
          AS revoked,
      EXISTS (SELECT 1 FROM stripe_outbox o WHERE o.grant_id = g.grant_id
          AND o.action = 'create_credit_grant' AND o.status = 'pending') AS create_in_flight,
      EXISTS (SELECT 1 FROM stripe_outbox o WHERE o.grant_id = g.grant_id
          AND o.action = 'void_credit_grant' AND o.status = 'pending') AS void_in_flight,
      ARRAY(SELECT o.stripe_object_id FROM stripe_outbox o WHERE o.grant_id = g.grant_id
          AND o.action = 'create_credit_grant' AND o.stripe_object_id IS NOT NULL
          AND o.stripe_object_id IS DISTINCT FROM g.stripe_grant_id) AS earlier_mirrors
    FROM grants g
    WHERE g.stripe_customer_id = #{customer}
    ORDER BY g.grant_id""".formatted(LedgerStore.prefixed("g."));

  private static final String CUSTOMER_OWNER = """
    SELECT coalesce(
      (SELECT user_id FROM users WHERE stripe_customer_id = #{customer} ORDER BY created_at LIMIT 1),
      (SELECT user_id FROM grants WHERE stripe_customer_id = #{customer} ORDER BY grant_id DESC LIMIT 1))""";

  private static final String INSERT_RUN = """
    INSERT INTO reconcile_runs (user_id, repair, checked, drift, started_at, finished_at)
    VALUES (#{userId}, #{repair}, #{checked}, #{drift}, #{startedAt}, #{finishedAt})
    RETURNING run_id""";

  private static final String LAST_RUN = """
    SELECT run_id, user_id, repair, checked, drift, started_at, finished_at
    FROM reconcile_runs
    ORDER BY run_id DESC
    LIMIT 1""";

  public Future<List<String>> mirroredCustomers(SqlClient client, String userId, String after, int limit) {
    Map<String, Object> p = new HashMap<>();
    p.put("userId", userId);
    p.put("after", after);
    p.put("limit", limit);
    return Templates.forQuery(client, MIRRORED_CUSTOMERS).execute(p).map(rows -> {
      List<String> out = new ArrayList<>();
      rows.forEach(r -> out.add(r.getString(0)));
      return out;
    });
  }

  public Future<List<MirrorDrift.Local>> localMirrors(SqlClient client, String customer) {
    return Templates.forQuery(client, LOCAL_MIRRORS).execute(Map.of("customer", customer)).map(rows -> {
      List<MirrorDrift.Local> out = new ArrayList<>();
      for (Row r : rows) {
        Set<String> earlier = new HashSet<>();
        for (String id : r.getArrayOfStrings("earlier_mirrors")) {
          earlier.add(id);
        }
        out.add(new MirrorDrift.Local(LedgerStore.grant(r), r.getLong("revoked"), r.getBoolean("create_in_flight"),
            r.getBoolean("void_in_flight"), earlier));
      }
      return out;
    });
  }

  public Future<String> customerOwner(SqlClient client, String customer) {
    return Templates.forQuery(client, CUSTOMER_OWNER).execute(Map.of("customer", customer))
        .map(rows -> rows.iterator().next().getString(0));
  }

  /** Keeps a run and answers its id. */
  public Future<Long> recordRun(SqlClient client, ReconcileRun run) {
    Map<String, Object> p = new HashMap<>();
    p.put("userId", run.userId());
    p.put("repair", run.repair());
    p.put("checked", run.checked());
    p.put("drift", new JsonObject().put("drift", Json.driftReports(run.drift())));
    p.put("startedAt", sql(run.startedAt()));
    p.put("finishedAt", sql(run.finishedAt()));
    return Templates.forQuery(client, INSERT_RUN).execute(p).map(rows -> rows.iterator().next().getLong(0));
  }

  /** The last reconciliation, if one ran. */
  public Future<Optional<ReconcileRun>> lastRun(SqlClient client) {
    return client.query(LAST_RUN).execute().map(rows -> first(rows).map(r -> {
      Object stored = r.getValue("drift");
      List<ReconcileRun.DriftReport> drift = Json.readDriftReports(
          (stored instanceof JsonObject j ? j : new JsonObject(String.valueOf(stored))).getJsonArray("drift"));
      return new ReconcileRun(r.getLong("run_id"), r.getString("user_id"), r.getBoolean("repair"),
          r.getInteger("checked"), r.getBoolean("repair") && !drift.isEmpty(), drift,
          Rows.instant(r, "started_at"), Rows.instant(r, "finished_at"));
    }));
  }

  // ---- rows

  public Future<Void> enqueueCreate(SqlClient conn, Grant grant, String currency, Instant now) {
    return enqueue(conn, grant, OutboxAction.CREATE_CREDIT_GRANT, CreditGrantPayload.createKey(grant),
        CreditGrantPayload.create(grant, currency), now);
  }

  public Future<Void> enqueueVoid(SqlClient conn, Grant grant, Instant now) {
    return enqueue(conn, grant, OutboxAction.VOID_CREDIT_GRANT, CreditGrantPayload.voidKey(grant),
        new JsonObject().put("grantOperationId", grant.operationId()), now);
  }

  /** A create that restores the grant's mirror (a repair), worth {@code cents}, under {@code key}. */
  public Future<Void> enqueueRestore(SqlClient conn, Grant grant, long cents, String currency, String key,
                                     Instant now) {
    return enqueue(conn, grant, OutboxAction.CREATE_CREDIT_GRANT, key,
        CreditGrantPayload.create(grant, cents, currency, key).put("replacement", true), now);
  }

  /**
   * A void of a named Stripe grant (a repair: one Stripe holds that the ledger does not want), under {@code key}.
   * {@code grant} may be null when no local grant goes with it.
   */
  public Future<Void> enqueueVoidOf(SqlClient conn, Grant grant, String userId, String stripeGrantId, String key,
                                    Instant now) {
    return enqueue(conn, grant == null ? null : grant.grantId(), userId, OutboxAction.VOID_CREDIT_GRANT, key,
        new JsonObject().put("stripeGrantId", stripeGrantId)
            .put("grantOperationId", grant == null ? null : grant.operationId()), now);
  }

  /**
   * A consumption to report to Stripe as a meter event: the Stripe customer's {@code credits} under the meter's
   * event name, identified by the consumption's operationId (Stripe counts an identifier once) at its time.
   */
  public record UsageReport(String userId, String customer, String eventName, String operationId, long credits,
                            Instant at) {
  }

  /** Queues usage reports, with one statement. */
  public Future<Void> enqueueUsages(SqlClient conn, List<UsageReport> reports, Instant now) {
    List<NewRow> rows = new ArrayList<>(reports.size());
    for (UsageReport r : reports) {
      rows.add(new NewRow(null, r.userId(), OutboxAction.REPORT_USAGE,
          CreditGrantPayload.key("ledger-usage-" + r.operationId()), new JsonObject()
          .put("eventName", r.eventName())
          .put("customer", r.customer())
          .put("value", r.credits())
          .put("identifier", r.operationId())
          .put("timestamp", r.at().getEpochSecond())));
    }
    return enqueueMany(conn, rows, now);
  }

  /** Queues the creates of mirrored grants, with one statement. */
  public Future<Void> enqueueCreates(SqlClient conn, List<Grant> grants, String currency, Instant now) {
    List<NewRow> rows = new ArrayList<>(grants.size());
    for (Grant g : grants) {
      rows.add(new NewRow(g.grantId(), g.userId(), OutboxAction.CREATE_CREDIT_GRANT, CreditGrantPayload.createKey(g),
          CreditGrantPayload.create(g, currency)));
    }
    return enqueueMany(conn, rows, now);
  }

  /** Queues the voids of mirrored grants, with one statement. */
  public Future<Void> enqueueVoids(SqlClient conn, List<Grant> grants, Instant now) {
    List<NewRow> rows = new ArrayList<>(grants.size());
    for (Grant g : grants) {
      rows.add(new NewRow(g.grantId(), g.userId(), OutboxAction.VOID_CREDIT_GRANT, CreditGrantPayload.voidKey(g),
          new JsonObject().put("grantOperationId", g.operationId())));
    }
    return enqueueMany(conn, rows, now);
  }

  /** An auto top-up's charge of the user's saved card; its operationId is the Idempotency-Key. */
  public record TopUpCharge(String userId, String operationId, long credits, long cents, String customer,
                            String paymentMethodId) {
  }

  /**
   * One {@code create_payment_intent} row per charge: off-session, confirmed, in {@code currency}, with the
   * purchase to grant in its metadata ({@code userId, credits, operationId, grantType}).
   */
  public Future<Void> enqueueTopUps(SqlClient conn, List<TopUpCharge> charges, String currency, Instant now) {
    if (charges.isEmpty()) {
      return Future.succeededFuture();
    }
    List<NewRow> rows = new ArrayList<>();
    for (TopUpCharge c : charges) {
      JsonObject payload = new JsonObject()
          .put("amount", c.cents())
          .put("currency", currency)
          .put("customer", c.customer())
          .put("paymentMethod", c.paymentMethodId())
          .put("offSession", true)
          .put("confirm", true)
          .put("metadata", new JsonObject()
              .put("userId", c.userId())
              .put("credits", Long.toString(c.credits()))
              .put("operationId", c.operationId())
              .put("grantType", "purchase"));
      rows.add(new NewRow(null, c.userId(), OutboxAction.CREATE_PAYMENT_INTENT, c.operationId(), payload));
    }
    return enqueueMany(conn, rows, now);
  }

  private record NewRow(Long grantId, String userId, OutboxAction action, String key, JsonObject payload) {
  }

  private Future<Void> enqueueMany(SqlClient conn, List<NewRow> rows, Instant now) {
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = rows.size();
    Long[] grantIds = new Long[n];
    String[] users = new String[n];
    String[] actions = new String[n];
    String[] keys = new String[n];
    String[] payloads = new String[n];
    for (int i = 0; i < n; i++) {
      NewRow r = rows.get(i);
      grantIds[i] = r.grantId();
      users[i] = r.userId();
      actions[i] = r.action().wire();
      keys[i] = r.key();
      payloads[i] = r.payload().encode();
    }
    Map<String, Object> p = new HashMap<>();
    p.put("grantIds", grantIds);
    p.put("userIds", users);
    p.put("actions", actions);
    p.put("keys", keys);
    p.put("payloads", payloads);
    p.put("now", sql(now));
    return Templates.forUpdate(conn, ENQUEUE).execute(p).mapEmpty();
  }

  /**
   * Replaces the grant's Stripe mirror by one worth {@code cents}: a void of the current mirror, then (when
   * anything is left) a create marked {@code replacement}. Rows of one grant are sent in order, so the void runs
   * first and always voids the mirror of the moment.
   */
  public Future<Void> enqueueReplacement(SqlClient conn, Grant grant, long cents, String currency,
                                         String revokeOperationId, Instant now) {
    Future<Void> voided = enqueue(conn, grant, OutboxAction.VOID_CREDIT_GRANT, CreditGrantPayload.voidBeforeKey(grant, revokeOperationId),
        new JsonObject().put("grantOperationId", grant.operationId()), now);
    if (cents == 0) {
      return voided;
    }
    String key = CreditGrantPayload.replacementKey(grant, revokeOperationId);
    return Future.all(voided, enqueue(conn, grant, OutboxAction.CREATE_CREDIT_GRANT, key,
        CreditGrantPayload.create(grant, cents, currency, key).put("replacement", true), now)).mapEmpty();
  }

  private Future<Void> enqueue(SqlClient conn, Grant grant, OutboxAction action, String key, JsonObject payload,
                               Instant now) {
    return enqueue(conn, grant.grantId(), grant.userId(), action, key, payload, now);
  }

  private Future<Void> enqueue(SqlClient conn, Long grantId, String userId, OutboxAction action, String key,
                               JsonObject payload, Instant now) {
    return enqueueMany(conn, List.of(new NewRow(grantId, userId, action, key, payload)), now);
  }

  public Future<List<OutboxRow>> claim(Pool pool, String owner, int limit, Instant leaseUntil, Instant now) {
    return Templates.forQuery(pool, CLAIM)
        .execute(Map.of("owner", owner, "limit", limit, "leaseUntil", sql(leaseUntil), "now", sql(now)))
        .map(OutboxStore::rows);
  }

  /** A row Stripe took, and what Stripe answered: the created or voided grant's id, or the meter event's identifier. */
  public record Delivery(OutboxRow row, String stripeId) {
  }

  /**
   * Marks the rows delivered and records on their grants what Stripe now holds, with one statement: all or none,
   * so after a crash every row of the batch is still pending under its lease and is sent again under its
   * Idempotency-Key.
   */
  public Future<Void> delivered(SqlClient client, List<Delivery> deliveries, Instant now) {
    int n = deliveries.size();
    Long[] ids = new Long[n];
    Long[] grantIds = new Long[n];
    String[] stripeIds = new String[n];
    String[] effects = new String[n];
    for (int i = 0; i < n; i++) {
      OutboxRow row = deliveries.get(i).row();
      ids[i] = row.outboxId();
      grantIds[i] = row.grantId();
      stripeIds[i] = deliveries.get(i).stripeId();
      effects[i] = grantEffect(row);
    }
    Map<String, Object> p = new HashMap<>();
    p.put("ids", ids);
    p.put("grantIds", grantIds);
    p.put("stripeIds", stripeIds);
    p.put("effects", effects);
    p.put("now", sql(now));
    return Templates.forUpdate(client, DELIVERED).execute(p).mapEmpty();
  }

  /** What a delivered row changes on its grant (see {@link #DELIVERED}). */
  private static String grantEffect(OutboxRow row) {
    if (row.grantId() == null || row.action() == OutboxAction.REPORT_USAGE) {
      return null;
    }
    if (row.action() == OutboxAction.VOID_CREDIT_GRANT) {
      return "voided";
    }
    return row.replacement() ? "replaced" : "created";
  }

  /** Records a failed send: the row waits until {@code nextAttemptAt}, or is dead. Only the lease holder may. */
  /** Records a failed attempt of a row this relay leases; answers whether it did (false: the lease was lost). */
  public Future<Boolean> failed(SqlClient client, OutboxRow row, String owner, String error, boolean dead,
                                Instant nextAttemptAt, Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("id", row.outboxId());
    p.put("owner", owner);
    p.put("error", error.length() > 1000 ? error.substring(0, 1000) : error);
    p.put("dead", dead);
    p.put("nextAttemptAt", sql(nextAttemptAt));
    p.put("now", sql(now));
    return Templates.forUpdate(client, FAILED).execute(p).map(r -> r.rowCount() == 1);
  }

  /** Hands a claimed, unsent row back (Stripe asked us to slow down): no attempt is counted. */
  public Future<Void> release(Pool pool, OutboxRow row, String owner, Instant nextAttemptAt, Instant now) {
    return Templates.forUpdate(pool, RELEASE).execute(Map.of("id", row.outboxId(), "owner", owner,
        "nextAttemptAt", sql(nextAttemptAt), "now", sql(now))).mapEmpty();
  }

  public Future<List<OutboxRow>> list(SqlClient client, OutboxStatus status, long before, int limit) {
    Map<String, Object> p = new HashMap<>();
    p.put("status", status == null ? null : status.wire());
    p.put("before", before);
    p.put("limit", limit);
    return Templates.forQuery(client, LIST).execute(p).map(OutboxStore::rows);
  }

  public Future<Optional<OutboxRow>> find(SqlClient client, long id) {
    return Templates.forQuery(client, FIND).execute(Map.of("id", id)).map(rows -> first(rows).map(OutboxStore::row));
  }

  /**
   * Puts a dead (or waiting) row back in line now with a fresh attempt budget and wakes the relays; answers
   * the row as it is afterwards (unchanged when delivered), if there is one.
   */
  public Future<Optional<OutboxRow>> retry(Pool pool, long id, Instant now) {
    return pool.withTransaction(conn -> Templates.forUpdate(conn, RETRY).execute(Map.of("id", id, "now", sql(now)))
        .compose(updated -> updated.rowCount() == 0 ? Future.succeededFuture()
            : conn.query("NOTIFY " + WAKE_CHANNEL).execute().mapEmpty())
        .compose(v -> find(conn, id)));
  }

  public Future<Integer> prune(Pool pool, Instant cutoff, int limit) {
    return Templates.forUpdate(pool, PRUNE).execute(Map.of("cutoff", sql(cutoff), "limit", limit))
        .map(r -> r.rowCount());
  }

  /** For each of the grants that has undelivered rows: true when one of them is dead. */
  public Future<Map<Long, Boolean>> openRows(SqlClient client, List<Long> grantIds) {
    if (grantIds.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return Templates.forQuery(client, OPEN_ROWS).execute(Map.of("ids", grantIds.toArray(new Long[0])))
        .map(rows -> {
          Map<Long, Boolean> out = new HashMap<>();
          rows.forEach(r -> out.put(r.getLong("grant_id"), r.getBoolean("dead")));
          return out;
        });
  }

  /**
   * Stripe reported a create: its outbox row (when still kept) is done whatever the relay knows, and the grant
   * points at the Stripe id; a replacement's only when no later replacement exists.
   */
  public Future<Void> confirmCreate(SqlClient conn, long grantId, Long outboxId, String stripeId, boolean replacement,
                                    Instant now) {
    Future<?> row = outboxId == null ? Future.succeededFuture()
        : Templates.forUpdate(conn, CONFIRM_CREATE).execute(Map.of("id", outboxId, "stripeId", stripeId, "now", sql(now)));
    Future<?> grant = replacement
        ? Templates.forUpdate(conn, GRANT_REPLACED_IF_NEWEST).execute(Map.of("grantId", grantId, "stripeId", stripeId,
            "id", outboxId))
        : Templates.forUpdate(conn, GRANT_CREATED).execute(Map.of("grantId", grantId, "stripeId", stripeId));
    return Future.all(row, grant).mapEmpty();
  }

  public Future<Optional<OutboxRow>> findByKey(SqlClient client, String key) {
    return Templates.forQuery(client, FIND_BY_KEY).execute(Map.of("key", key))
        .map(rows -> first(rows).map(OutboxStore::row));
  }

  /** Stripe reported the grant voided. */
  public Future<Void> confirmVoid(SqlClient conn, long grantId, Instant now) {
    return Templates.forUpdate(conn, GRANT_VOIDED).execute(Map.of("grantId", grantId, "now", sql(now))).mapEmpty();
  }

  private static List<OutboxRow> rows(RowSet<Row> rows) {
    List<OutboxRow> out = new ArrayList<>(rows.size());
    rows.forEach(r -> out.add(row(r)));
    return out;
  }

  private static OutboxRow row(Row r) {
    Object payload = r.getValue("payload");
    return new OutboxRow(
        r.getLong("outbox_id"),
        r.getLong("grant_id"),
        r.getString("grant_operation_id"),
        r.getString("user_id"),
        OutboxAction.fromWire(r.getString("action")),
        r.getString("idempotency_key"),
        payload instanceof JsonObject j ? j : new JsonObject(String.valueOf(payload)),
        OutboxStatus.fromWire(r.getString("status")),
        r.getInteger("attempts"),
        Rows.instant(r, "next_attempt_at"),
        r.getString("last_error"),
        r.getString("stripe_object_id"),
        r.getString("stripe_grant_id"),
        Rows.instant(r, "created_at"),
        Rows.instant(r, "delivered_at"),
        Rows.instant(r, "first_attempt_at"));
  }

}
