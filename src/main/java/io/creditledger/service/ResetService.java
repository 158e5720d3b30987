package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.db.SyncFailures;
import io.creditledger.db.Transactions;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.CycleGrants;
import io.creditledger.domain.Expiry;
import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.JournalBatch;
import io.creditledger.domain.JournalKind;
import io.creditledger.domain.OperationKind;
import io.creditledger.domain.ResetOutcome;
import io.creditledger.domain.Rollover;
import io.creditledger.domain.User;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.money.CentsPerCredit;
import io.creditledger.store.LedgerStore;
import io.creditledger.store.OutboxStore;
import io.creditledger.store.Stores;
import io.creditledger.store.UserStore;
import io.creditledger.time.Now;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A user's monthly reset ({@code calculateAndApplyRollover}, then the new cycle's grants), inside a transaction
 * holding the user's lock, so it never interleaves with the user's other changes:
 * <ol>
 *   <li>credits left on expired grants are journalled as {@code expiry} (debt stays: it is never forgiven);</li>
 *   <li>the remaining balances of rollover grants and of purchases without an expiry of their own move
 *       ({@code rollover_out}) into one new never-expiring rollover grant ({@code rollover_in}, operationId
 *       {@code rollover/<user>/<boundary>}) that remembers its sources and is worth what their credits were worth;
 *       the emptied grants close, and their Stripe mirrors are voided;</li>
 *   <li>the new free grant and, for a user who took part in referrals, the referral grant, both expiring at the
 *       next reset; like every grant they settle outstanding debt first;</li>
 *   <li>usage back to zero and {@code next_quota_reset} moved to the first boundary after now, so a user whose
 *       resets were missed gets one reset, not one per missed cycle.</li>
 * </ol>
 * Every operation that touches a user applies the user's due reset first ({@link #resetIfDue}), in its own
 * transaction and under the same lock; the scanner ({@code ledger.resets.apply}) sweeps users nobody touches with
 * the same code. A user who is not due is left alone, which makes a rerun of a cycle a no-op.
 */
public final class ResetService {

  private final Pool pool;
  private final LedgerConfig config;
  private final Transactions transactions;
  private final LedgerStore store;
  private final GrantWriter grants;
  private final OutboxStore outbox;
  private final UserStore users;
  private final SyncFailures failures;

  public ResetService(Pool pool, LedgerConfig config, Transactions transactions, Stores stores, GrantWriter grants) {
    this.pool = pool;
    this.config = config;
    this.transactions = transactions;
    this.store = stores.ledger();
    this.outbox = stores.outbox();
    this.users = stores.users();
    this.failures = stores.syncFailures();
    this.grants = grants;
  }

  /** A reset done: the user as it left it, and what it did. */
  private record Done(User user, ResetOutcome outcome) {
  }

  /** What closing the cycle found: credits that expired, and what rolls over. */
  private record Closed(long expired, Rollover.Plan rollover) {
  }

  /** The user's reset if due ({@code reset} false in the answer when not). */
  public Future<Answer<ResetOutcome>> apply(Command.ApplyReset c) {
    String userId = c.userId();
    Instant now = Now.of(config.clock());
    return transactions.run(Transactions.Failure.of(CycleGrants.resetFailure(userId), userId, c), conn ->
        users.lock(conn, userId).compose(found -> {
          User user = found.orElseThrow(() -> LedgerException.userNotFound(userId));
          if (!due(user, now)) {
            return Future.succeededFuture(Answer.ok(ResetOutcome.notDue(userId, user.nextQuotaReset())));
          }
          return reset(conn, user, now).map(done -> Answer.ok(done.outcome()));
        })).recover(failure -> failed(userId, failure, now));
  }

  /**
   * A reset that failed for another reason than the request (a bug, a constraint, a trigger) is kept in
   * {@code sync_failure} with its error for a person to look at, and answered {@code 500 reset_failed} with it:
   * the scanner backs the user off and carries on. Failures the retries gave up on are recorded by
   * {@link Transactions} already.
   */
  private Future<Answer<ResetOutcome>> failed(String userId, Throwable failure, Instant now) {
    if (failure instanceof LedgerException || failure instanceof Transactions.GaveUp) {
      return Future.failedFuture(failure);
    }
    String error = failure.getMessage() == null ? failure.toString() : failure.getMessage();
    return failures.record(pool, SyncFailures.INTERNAL, CycleGrants.resetFailure(userId), userId,
            new JsonObject().put("userId", userId), error, 1, now)
        .transform(recorded -> Future.failedFuture(new LedgerException(ErrorCode.RESET_FAILED,
            "The reset of \"" + userId + "\" failed: " + error)));
  }

  /**
   * Applies the user's due reset, if there is one, inside the caller's transaction, which holds the user's lock;
   * answers the user as the reset left it (or as it was).
   */
  public Future<User> resetIfDue(SqlConnection conn, User user, Instant now) {
    return due(user, now) ? reset(conn, user, now).map(Done::user) : Future.succeededFuture(user);
  }

  /**
   * For reads: applies the user's due reset in a transaction of its own (nothing happens when another transaction
   * got there first), so what the read shows belongs to the current cycle.
   */
  public Future<Void> applyDue(String userId, Instant now) {
    return transactions.run(Transactions.Failure.of(CycleGrants.resetFailure(userId), userId,
            new Command.ApplyReset(userId)),
        conn -> users.lock(conn, userId).compose(user -> user.isEmpty() ? Future.succeededFuture()
            : resetIfDue(conn, user.get(), now).mapEmpty()));
  }

  /**
   * For reads: the user after its due reset (404 when there is no such user), so that what is read next belongs
   * to the current cycle.
   */
  public Future<User> currentUser(String userId, Instant now) {
    return users.find(pool, userId).compose(found -> {
      User user = found.orElseThrow(() -> LedgerException.userNotFound(userId));
      return due(user, now) ? applyDue(userId, now).compose(v -> users.find(pool, userId)).map(Optional::orElseThrow)
          : Future.succeededFuture(user);
    });
  }

  public static boolean due(User user, Instant now) {
    return !user.nextQuotaReset().isAfter(now);
  }

  private Future<Done> reset(SqlConnection conn, User user, Instant now) {
    String userId = user.userId();
    Instant boundary = user.nextQuotaReset();
    Instant next = config.resetCycle().firstBoundaryAfter(boundary, user.billingAnchorDay(), now);
    User after = user.startingCycle(next);
    String operationId = CycleGrants.reset(userId, boundary);
    String rolloverId = CycleGrants.rollover(userId, boundary);
    return store.liveGrants(conn, userId, now)
        .compose(live -> closeCycle(conn, userId, live, operationId, rolloverId, now))
        .compose(closed -> rollOver(conn, after, closed.rollover(), rolloverId, boundary, now)
            .compose(rolled -> freeGrant(conn, after, next, now)
                .compose(free -> referralGrant(conn, after, next, now)
                    .compose(referral -> {
                      List<String> granted = new ArrayList<>();
                      rolled.ifPresent(granted::add);
                      free.ifPresent(granted::add);
                      referral.ifPresent(granted::add);
                      ResetOutcome outcome = new ResetOutcome(userId, true, boundary, next, closed.expired(),
                          closed.rollover().total(), List.copyOf(granted));
                      return Future.all(
                          store.finishReset(conn, userId, next, now),
                          store.insertOperation(conn, operationId, userId, OperationKind.RESET,
                              new JsonObject().put("userId", userId).put("boundary", boundary.toString()).encode(), 200,
                              Json.resetOutcome(outcome), now))
                          .map(done -> new Done(after, outcome));
                    }))));
  }

  /** Journals expiry and the rollover's outflow, closes the rolled-over grants and voids their mirrors. */
  private Future<Closed> closeCycle(SqlConnection conn, String userId, List<Grant> live, String operationId,
                                    String rolloverId, Instant now) {
    JournalBatch batch = new JournalBatch();
    Expiry.sweep(live, batch, now);
    long expired = -batch.entries().stream().mapToLong(JournalBatch.Entry::delta).sum();
    Rollover.Plan rollover = Rollover.plan(live, now);
    for (Grant source : rollover.sources()) {
      batch.add(source, -source.balance(), JournalKind.ROLLOVER_OUT, operationId, "Rolled over into " + rolloverId);
    }
    List<Future<Void>> writes = new ArrayList<>();
    writes.add(store.apply(conn, batch, now));
    writes.add(store.closeRolledOver(conn, rollover.sources(), "rolled over into " + rolloverId, now));
    for (Grant source : rollover.sources()) {
      if (source.mirrored()) {
        writes.add(outbox.enqueueVoid(conn, source, now));
      }
    }
    return Future.all(writes).map(done -> new Closed(expired, rollover));
  }

  /** The new cycle's free grant, when there is one. */
  private Future<Optional<String>> freeGrant(SqlConnection conn, User user, Instant next, Instant now) {
    if (config.freeGrantCredits() == 0) {
      return Future.succeededFuture(Optional.empty());
    }
    return grants.write(conn, user, new GrantWriter.Spec(CycleGrants.free(user.userId(), next), GrantType.FREE,
        config.freeGrantCredits(), null, next), now).map(w -> Optional.of(w.grant().operationId()));
  }

  /** The new cycle's referral grant, for a user who took part in referrals. */
  private Future<Optional<String>> referralGrant(SqlConnection conn, User user, Instant next, Instant now) {
    return store.referralsOf(conn, user.userId()).compose(referrals -> {
      long credits = referrals * config.resets().referralCreditsPerReferral();
      if (credits == 0) {
        return Future.succeededFuture(Optional.empty());
      }
      String referralId = CycleGrants.referral(user.userId(), next);
      return grants.write(conn, user, new GrantWriter.Spec(referralId, GrantType.REFERRAL, credits,
          "Referral credits for " + referrals + " referrals", next), now).map(w -> Optional.of(referralId));
    });
  }

  /** Opens the rollover grant, worth its sources' value, and records where its credits came from. */
  private Future<Optional<String>> rollOver(SqlConnection conn, User user, Rollover.Plan rollover, String rolloverId,
                                   Instant boundary, Instant now) {
    if (rollover.total() == 0) {
      return Future.succeededFuture(Optional.empty());
    }
    BigDecimal price = BigDecimal.valueOf(rollover.cents())
        .divide(BigDecimal.valueOf(rollover.total()), CentsPerCredit.MAX_SCALE, RoundingMode.HALF_UP);
    GrantWriter.Spec spec = new GrantWriter.Spec(rolloverId, GrantType.ROLLOVER, rollover.total(),
        "Rolled over " + rollover.total() + " credits from the cycle ending " + boundary, null, null,
        new GrantWriter.Value(rollover.cents(), price), null);
    return grants.write(conn, user, spec, JournalKind.ROLLOVER_IN, now)
        .compose(w -> store.insertRolloverSources(conn, w.grant().grantId(), rollover.sources()))
        .map(Optional.of(rolloverId));
  }
}
