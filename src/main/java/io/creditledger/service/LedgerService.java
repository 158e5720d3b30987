package io.creditledger.service;

import io.creditledger.domain.OperationKind;

import io.creditledger.domain.CloseReason;

import io.creditledger.domain.JournalKind;

import io.creditledger.domain.BalanceView;
import io.creditledger.domain.ConsumptionPlan;
import io.creditledger.domain.Expiry;
import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.JournalBatch;
import io.creditledger.store.LedgerStore;
import io.creditledger.wire.GrantJson;
import io.creditledger.wire.Input;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Reply;
import io.creditledger.domain.User;
import io.creditledger.config.LedgerConfig;
import io.creditledger.db.Transactions;
import io.creditledger.store.OutboxStore;
import io.creditledger.time.Now;
import io.creditledger.store.UserStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The ledger's operations as the API offers them: validate the request, then run it in one transaction that
 * holds the user's row lock (which serializes every balance change of that user), idempotently by operationId.
 */
public final class LedgerService {
  private static final int DESCRIPTION_MAX = 500;
  private static final int DEFAULT_PAGE = 100;
  private static final int MAX_PAGE = 500;

  private final Pool pool;
  private final LedgerConfig config;
  private final Transactions transactions;
  private final LedgerStore store;
  private final GrantOnce grants;
  private final GrantRevoker revoker;
  private final OutboxStore outbox;
  private final UserLocks locks;
  private final ResetService resets;
  private final UserStore users = new UserStore();

  public LedgerService(Pool pool, LedgerConfig config, Transactions transactions, LedgerStore store,
                       GrantOnce grants, GrantRevoker revoker, OutboxStore outbox, UserLocks locks,
                       ResetService resets) {
    this.pool = pool;
    this.config = config;
    this.transactions = transactions;
    this.store = store;
    this.grants = grants;
    this.revoker = revoker;
    this.outbox = outbox;
    this.locks = locks;
    this.resets = resets;
  }

  private Instant now() {
    return Now.of(config.clock());
  }

  // ---- grants

  public Future<Reply> grant(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "operationId", "amount", "type", "description", "expiresAt"));
    String userId = in.id("userId");
    String operationId = in.id("operationId");
    long amount = in.integer("amount", 1, config.maxCreditsPerOperation());
    String typeName = in.string("type", 32);
    GrantType type = GrantType.fromWire(typeName);
    if (type == null) {
      throw Input.invalid("type", "must be one of " + GrantType.NAMES);
    }
    String description = in.optionalString("description", DESCRIPTION_MAX);
    Instant expiresAt = in.optionalInstant("expiresAt");
    Instant now = now();
    if (expiresAt != null && !expiresAt.isAfter(now)) {
      throw Input.invalid("expiresAt", "must be in the future");
    }
    GrantWriter.Spec spec = new GrantWriter.Spec(operationId, type, amount, description, expiresAt);
    return transactions.run(new Transactions.Failure(operationId, userId, body),
        conn -> grants.write(conn, userId, spec, now));
  }

  public Future<Reply> listGrants(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "limit", "before"));
    String userId = in.id("userId");
    int limit = limit(in);
    long before = before(in);
    Instant now = now();
    return currentUser(userId, now)
        .compose(user -> store.listGrants(pool, userId, before, limit))
        .compose(list -> outbox.openRows(pool, list.stream().map(Grant::grantId).toList()).map(open -> {
          JsonArray out = new JsonArray();
          list.forEach(g -> out.add(GrantJson.of(g, now, open.get(g.grantId()))));
          return Reply.ok(page("grants", out, list.size() == limit ? list.get(list.size() - 1).grantId() : null));
        }));
  }

  // ---- consumption

  public Future<Reply> consume(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "operationId", "amount"));
    String userId = in.id("userId");
    String operationId = in.id("operationId");
    long amount = in.integer("amount", 1, config.maxCreditsPerOperation());
    String request = new JsonObject().put("userId", userId).put("amount", amount).encode();
    Instant now = now();
    return transactions.run(new Transactions.Failure(operationId, userId, body), conn ->
        locks.lockForOperation(conn, userId, operationId, now).compose(locked -> {
          if (locked.operation() != null) {
            return Future.succeededFuture(Idempotency.replayOrConflict(locked.operation(), operationId, OperationKind.CONSUME, request));
          }
          return consumeLocked(conn, locked.user(), operationId, amount, request, now);
        }));
  }

  private Future<Reply> consumeLocked(SqlConnection conn, User user, String operationId, long amount,
                                      String request, Instant now) {
    return store.liveGrants(conn, user.userId(), now).compose(live -> {
      ConsumptionPlan.Outcome outcome = ConsumptionPlan.plan(live, amount, config.maxDebt(), now);
      if (outcome instanceof ConsumptionPlan.Refused refused) {
        throw new LedgerException(refused.code(), refused.message());
      }
      ConsumptionPlan.Planned plan = (ConsumptionPlan.Planned) outcome;
      JournalBatch batch = new JournalBatch();
      Expiry.sweep(live, batch, now);
      for (ConsumptionPlan.Take take : plan.takes()) {
        batch.add(take.grant(), -take.amount(), JournalKind.CONSUME, operationId, "Consumed " + take.amount() + " credits");
      }
      List<Grant> after = new ArrayList<>(live.size());
      live.forEach(g -> after.add(g.withBalance(batch.balanceOf(g))));
      JsonObject response = new JsonObject()
          .put("operationId", operationId)
          .put("consumed", amount)
          .put("fromPurchased", plan.fromPurchased())
          .put("balance", BalanceView.of(after, now, user.usageThisCycle() + amount, user.nextQuotaReset()));
      return Future.all(
              store.apply(conn, user.userId(), batch, now),
              store.addUsage(conn, user.userId(), amount),
              store.insertOperation(conn, operationId, user.userId(), OperationKind.CONSUME, request, 200, response, now),
              reportUsage(conn, user, operationId, amount, now))
          .map(done -> Reply.ok(response));
    });
  }

  /** A mirrored user's consumption goes to Stripe as a meter event, through the outbox, in the same transaction. */
  private Future<Void> reportUsage(SqlConnection conn, User user, String operationId, long amount, Instant now) {
    if (user.stripeCustomerId() == null || !config.stripe().reportsUsage()) {
      return Future.succeededFuture();
    }
    return outbox.enqueueUsage(conn, user.userId(), user.stripeCustomerId(), config.stripe().meterEventName(),
        operationId, amount, now, now);
  }

  // ---- reads

  public Future<Reply> balance(JsonObject body) {
    String userId = Input.of(body, Set.of("userId")).id("userId");
    Instant now = now();
    return readBalance(userId, now).compose(balance -> balance != null ? Future.succeededFuture(balance)
        : resets.applyDue(userId, now).compose(v -> readBalance(userId, now)).map(again -> {
          if (again == null) {
            throw new LedgerException(ErrorCode.LEDGER_BUSY, "The user's reset is still being applied; retry");
          }
          return again;
        }));
  }

  /**
   * The balance from one snapshot of the user row and its grants, so usage and balances agree under concurrent
   * consumption; null when the user's cycle has ended and its reset is due first.
   */
  private Future<Reply> readBalance(String userId, Instant now) {
    return pool.withTransaction(conn -> conn.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute()
        .compose(v -> users.find(conn, userId))
        .compose(user -> {
          if (user == null) {
            throw LedgerException.userNotFound(userId);
          }
          if (ResetService.due(user, now)) {
            return Future.succeededFuture(null);
          }
          return store.liveGrants(conn, userId, now)
              .map(live -> Reply.ok(BalanceView.of(live, now, user.usageThisCycle(), user.nextQuotaReset())));
        }));
  }

  public Future<Reply> journal(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "limit", "before"));
    String userId = in.id("userId");
    int limit = limit(in);
    long before = before(in);
    return currentUser(userId, now())
        .compose(user -> store.journal(pool, userId, before, limit))
        .map(entries -> Reply.ok(page("entries", new JsonArray(new ArrayList<>(entries)),
            entries.size() == limit ? entries.get(entries.size() - 1).getLong("entryId") : null)));
  }

  /** The user, after applying its due reset so that what is read next belongs to the current cycle. */
  private Future<User> currentUser(String userId, Instant now) {
    return users.find(pool, userId).compose(user -> {
      if (user == null) {
        throw LedgerException.userNotFound(userId);
      }
      return ResetService.due(user, now) ? resets.applyDue(userId, now).map(user) : Future.succeededFuture(user);
    });
  }

  private static int limit(Input in) {
    return in.has("limit") ? (int) in.integer("limit", 1, MAX_PAGE) : DEFAULT_PAGE;
  }

  private static long before(Input in) {
    return in.has("before") ? in.integer("before", 1, Long.MAX_VALUE) : Long.MAX_VALUE;
  }

  private static JsonObject page(String name, JsonArray items, Long nextBefore) {
    return new JsonObject().put(name, items).put("nextBefore", nextBefore);
  }

  // ---- revoke

  public Future<Reply> revoke(JsonObject body) {
    Input in = Input.of(body, Set.of("operationId", "reason"));
    String operationId = in.grantId("operationId");
    String reason = in.string("reason", DESCRIPTION_MAX);
    Instant now = now();
    return transactions.run(new Transactions.Failure("revoke/" + operationId, null, body), conn ->
        store.grantByOperation(conn, operationId).compose(found -> {
          if (found == null) {
            throw new LedgerException(ErrorCode.GRANT_NOT_FOUND, "No grant with operationId \"" + operationId + "\"");
          }
          return locks.lock(conn, found.userId(), now)
              .compose(user -> store.grantByOperation(conn, operationId))
              .compose(grant -> revokeLocked(conn, grant, reason, now));
        }));
  }

  private Future<Reply> revokeLocked(SqlConnection conn, Grant grant, String reason, Instant now) {
    if (grant.closedBy() == CloseReason.REVOKE) {
      return Future.succeededFuture(Reply.ok(GrantJson.of(grant, now).put("revoked", 0L)));
    }
    return revoker.revoke(conn, grant, Long.MAX_VALUE, true, reason, "revoke/" + grant.operationId(), now)
        .map(r -> Reply.ok(GrantJson.of(r.grant(), now).put("revoked", r.credits())));
  }
}
