package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.db.Transactions;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Balance;
import io.creditledger.domain.CloseReason;
import io.creditledger.domain.Command;
import io.creditledger.domain.Consumption;
import io.creditledger.domain.ConsumptionPlan;
import io.creditledger.domain.Expiry;
import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.JournalBatch;
import io.creditledger.domain.JournalEntry;
import io.creditledger.domain.JournalKind;
import io.creditledger.domain.OperationKind;
import io.creditledger.domain.Page;
import io.creditledger.domain.User;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.store.LedgerStore;
import io.creditledger.store.OutboxStore;
import io.creditledger.store.Stores;
import io.creditledger.store.UserStore;
import io.creditledger.time.Now;
import io.creditledger.wire.Input;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The ledger's operations as the API offers them: each runs in one transaction that holds the user's row lock
 * (which serializes every balance change of that user), idempotently by operationId.
 */
public final class LedgerService {

  private final Pool pool;
  private final LedgerConfig config;
  private final Transactions transactions;
  private final LedgerStore store;
  private final GrantOnce grants;
  private final GrantRevoker revoker;
  private final OutboxStore outbox;
  private final UserLocks locks;
  private final ResetService resets;
  private final UserStore users;

  public LedgerService(Pool pool, LedgerConfig config, Transactions transactions, Stores stores, GrantOnce grants,
                       GrantRevoker revoker, UserLocks locks, ResetService resets) {
    this.pool = pool;
    this.config = config;
    this.transactions = transactions;
    this.store = stores.ledger();
    this.outbox = stores.outbox();
    this.users = stores.users();
    this.grants = grants;
    this.revoker = revoker;
    this.locks = locks;
    this.resets = resets;
  }

  private Instant now() {
    return Now.of(config.clock());
  }

  // ---- grants

  public Future<Answer<GrantView.Created>> grant(Command.GrantCredits c) {
    Instant now = now();
    if (c.expiresAt() != null && !c.expiresAt().isAfter(now)) {
      throw Input.invalid("expiresAt", "must be in the future");
    }
    GrantWriter.Spec spec = new GrantWriter.Spec(c.operationId(), c.type(), c.amount(), c.description(), c.expiresAt());
    return transactions.run(Transactions.Failure.of(c.operationId(), c.userId(), c),
        conn -> grants.write(conn, c.userId(), spec, now));
  }

  public Future<Answer<Page<GrantView>>> listGrants(Command.ListGrants c) {
    Instant now = now();
    return resets.currentUser(c.userId(), now)
        .compose(user -> store.listGrants(pool, c.userId(), c.before(), c.limit()))
        .compose(list -> outbox.openRows(pool, list.stream().map(Grant::grantId).toList()).map(open -> {
          List<GrantView> views = list.stream().map(g -> GrantView.of(g, now, open.get(g.grantId()))).toList();
          Long next = list.size() == c.limit() ? list.get(list.size() - 1).grantId() : null;
          return Answer.ok(new Page<>(views, next));
        }));
  }

  // ---- consumption

  public Future<Answer<Consumption>> consume(Command.Consume c) {
    String request = new JsonObject().put("userId", c.userId()).put("amount", c.amount()).encode();
    Instant now = now();
    return transactions.run(Transactions.Failure.of(c.operationId(), c.userId(), c), conn ->
        locks.lockForOperation(conn, c.userId(), c.operationId(), now).compose(locked -> {
          if (locked.operation().isPresent()) {
            return Future.succeededFuture(Idempotency.replayOrConflict(locked.operation().get(), c.operationId(),
                OperationKind.CONSUME, request, Json::readConsumption));
          }
          return consumeLocked(conn, locked.user(), c, request, now);
        }));
  }

  private Future<Answer<Consumption>> consumeLocked(SqlConnection conn, User user, Command.Consume c, String request,
                                                    Instant now) {
    return store.liveGrants(conn, user.userId(), now).compose(live -> {
      ConsumptionPlan.Outcome outcome = ConsumptionPlan.plan(live, c.amount(), config.maxDebt(), now);
      if (outcome instanceof ConsumptionPlan.Refused refused) {
        throw new LedgerException(refused.code(), refused.message());
      }
      ConsumptionPlan.Planned plan = (ConsumptionPlan.Planned) outcome;
      JournalBatch batch = new JournalBatch();
      Expiry.sweep(live, batch, now);
      for (ConsumptionPlan.Take take : plan.takes()) {
        batch.add(take.grant(), -take.amount(), JournalKind.CONSUME, c.operationId(),
            "Consumed " + take.amount() + " credits");
      }
      List<Grant> after = new ArrayList<>(live.size());
      live.forEach(g -> after.add(g.withBalance(batch.balanceOf(g))));
      Consumption consumption = new Consumption(c.operationId(), c.amount(), plan.fromPurchased(),
          Balance.of(after, now, user.usageThisCycle() + c.amount(), user.nextQuotaReset()));
      return Future.all(
              store.apply(conn, user.userId(), batch, now),
              store.addUsage(conn, user.userId(), c.amount()),
              store.insertOperation(conn, c.operationId(), user.userId(), OperationKind.CONSUME, request, 200,
                  Json.consumption(consumption), now),
              reportUsage(conn, user, c.operationId(), c.amount(), now))
          .map(done -> Answer.ok(consumption));
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

  public Future<Answer<Balance>> balance(Command.GetBalance c) {
    Instant now = now();
    return readBalance(c.userId(), now).compose(balance -> balance.isPresent() ? Future.succeededFuture(balance.get())
        : resets.applyDue(c.userId(), now).compose(v -> readBalance(c.userId(), now)).map(again -> again.orElseThrow(
            () -> new LedgerException(ErrorCode.LEDGER_BUSY, "The user's reset is still being applied; retry"))))
        .map(Answer::ok);
  }

  /**
   * The balance from one snapshot of the user row and its grants, so usage and balances agree under concurrent
   * consumption; empty when the user's cycle has ended and its reset is due first.
   */
  private Future<Optional<Balance>> readBalance(String userId, Instant now) {
    return transactions.snapshot(conn -> users.find(conn, userId).compose(found -> {
      User user = found.orElseThrow(() -> LedgerException.userNotFound(userId));
      if (ResetService.due(user, now)) {
        return Future.succeededFuture(Optional.empty());
      }
      return store.liveGrants(conn, userId, now)
          .map(live -> Optional.of(Balance.of(live, now, user.usageThisCycle(), user.nextQuotaReset())));
    }));
  }

  public Future<Answer<Page<JournalEntry>>> journal(Command.ListJournal c) {
    return resets.currentUser(c.userId(), now())
        .compose(user -> store.journal(pool, c.userId(), c.before(), c.limit()))
        .map(entries -> Answer.ok(new Page<>(entries,
            entries.size() == c.limit() ? entries.get(entries.size() - 1).entryId() : null)));
  }

  // ---- revoke

  public Future<Answer<GrantView.Revoked>> revoke(Command.Revoke c) {
    Instant now = now();
    return transactions.run(Transactions.Failure.of("revoke/" + c.operationId(), null, c), conn ->
        store.grantByOperation(conn, c.operationId()).compose(found -> {
          Grant grant = found.orElseThrow(() -> new LedgerException(ErrorCode.GRANT_NOT_FOUND,
              "No grant with operationId \"" + c.operationId() + "\""));
          return locks.lock(conn, grant.userId(), now)
              .compose(user -> store.grantByOperation(conn, c.operationId()))
              .compose(locked -> revokeLocked(conn, locked.orElseThrow(), c.reason(), now));
        }));
  }

  private Future<Answer<GrantView.Revoked>> revokeLocked(SqlConnection conn, Grant grant, String reason, Instant now) {
    if (grant.closedBy() == CloseReason.REVOKE) {
      return Future.succeededFuture(Answer.ok(new GrantView.Revoked(GrantView.of(grant, now), 0)));
    }
    return revoker.revoke(conn, grant, Long.MAX_VALUE, true, reason, "revoke/" + grant.operationId(), now)
        .map(r -> Answer.ok(new GrantView.Revoked(GrantView.of(r.grant(), now), r.credits())));
  }
}
