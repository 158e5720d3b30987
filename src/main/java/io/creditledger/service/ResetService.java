package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.db.SyncFailures;
import io.creditledger.db.Transactions;
import io.creditledger.domain.Accounts;
import io.creditledger.domain.Command;
import io.creditledger.domain.CycleGrants;
import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.GrantValue;
import io.creditledger.domain.JournalKind;
import io.creditledger.domain.OperationKind;
import io.creditledger.domain.ResetOutcome;
import io.creditledger.domain.Rollover;
import io.creditledger.domain.User;
import io.creditledger.domain.UserBook;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.money.CentsPerCredit;
import io.creditledger.store.EventStore;
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
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
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
  private final OutboxStore outbox;
  private final UserStore users;
  private final EventStore eventStore;
  private final SyncFailures failures;

  public ResetService(Pool pool, LedgerConfig config, Transactions transactions, Stores stores) {
    this.pool = pool;
    this.config = config;
    this.transactions = transactions;
    this.store = stores.ledger();
    this.outbox = stores.outbox();
    this.users = stores.users();
    this.eventStore = stores.events();
    this.failures = stores.syncFailures();
  }

  /**
   * A reset done: the user's book as the reset left it (the user in the new cycle, the live grants with their
   * balances once the reset is written), and what it did.
   */
  public record Done(UserBook book, ResetOutcome outcome) {
    public User user() {
      return book.user();
    }
  }

  /**
   * A reset that failed for another reason than the request (a bug, a constraint, a trigger) is kept in
   * {@code sync_failure} with its error for a person to look at, and answered {@code 500 reset_failed} with it:
   * the scanner backs the user off and carries on. Failures the retries gave up on are recorded by
   * {@link Transactions} already, and refusals are answers.
   */
  public <T> Future<T> failed(String userId, Throwable failure) {
    if (failure instanceof LedgerException || failure instanceof Transactions.GaveUp) {
      return Future.failedFuture(failure);
    }
    Instant now = Now.of(config.clock());
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
      User user = found.orElseThrow(() -> Accounts.notFound(userId));
      return due(user, now) ? applyDue(userId, now).compose(v -> users.find(pool, userId)).map(Optional::orElseThrow)
          : Future.succeededFuture(user);
    });
  }

  public static boolean due(User user, Instant now) {
    return !user.nextQuotaReset().isAfter(now);
  }

  private Future<Done> reset(SqlConnection conn, User user, Instant now) {
    return store.liveGrants(conn, user.userId(), now)
        .compose(live -> resetAll(conn, List.of(user), Map.of(user.userId(), live), now))
        .map(done -> done.get(user.userId()));
  }

  /**
   * Resets every user of {@code due} (locked by the caller's transaction; {@code live}: their live grants) with a
   * few set-based statements for all of them: each reset is decided in memory, the old cycle closed
   * ({@link UserBook#closeCycle}) and the new cycle's grants made ({@link UserBook#grant}), then the new grants, the
   * journal, the closed grants and rollover sources, the operation records, the users' new cycles and the outbox
   * rows are written once for the lot. Answers each user's reset by user id.
   */
  public Future<Map<String, Done>> resetAll(SqlConnection conn, List<User> due, Map<String, List<Grant>> live,
                                            Instant now) {
    if (due.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    Future<Map<String, Long>> referrals = config.resets().referralCreditsPerReferral() == 0
        ? Future.succeededFuture(Map.of())
        : store.referralCounts(conn, due.stream().map(User::userId).toList());
    return referrals.compose(counts -> {
      Resets resets = new Resets(now);
      List<Cycle> cycles = new ArrayList<>(due.size());
      for (User user : due) {
        cycles.add(resets.close(user, live.getOrDefault(user.userId(), List.of()),
            counts.getOrDefault(user.userId(), 0L)));
      }
      int grants = cycles.stream().mapToInt(resets::grantsOf).sum();
      Future<List<Long>> grantIds = grants == 0 ? Future.succeededFuture(List.of())
          : store.allocateGrantIds(conn, grants);
      return grantIds.compose(ids -> {
        Iterator<Long> next = ids.iterator();
        Map<String, Done> done = new HashMap<>();
        for (Cycle cycle : cycles) {
          Done d = resets.open(cycle, next);
          done.put(d.user().userId(), d);
        }
        return resets.write(conn).map(done);
      });
    });
  }

  /** One user's reset between closing the old cycle and opening the new one. */
  private record Cycle(UserBook book, Instant boundary, String operationId, String rolloverId,
                       UserBook.CycleClosed closed, long referrals) {
  }

  /** The resets of one transaction: decided one user at a time, written together. */
  private final class Resets extends DecidedWrites {
    final Instant now;
    final List<Grant> voids = new ArrayList<>();
    final List<LedgerStore.RolledOver> rollovers = new ArrayList<>();
    final List<User> started = new ArrayList<>();

    Resets(Instant now) {
      this.now = now;
    }

    /** Closes the user's cycle: expiry and the rollover's outflow journalled, the emptied grants' mirrors voided. */
    Cycle close(User user, List<Grant> live, long referrals) {
      Instant boundary = user.nextQuotaReset();
      Instant next = config.resetCycle().firstBoundaryAfter(boundary, user.billingAnchorDay(), now);
      String operationId = CycleGrants.reset(user.userId(), boundary);
      String rolloverId = CycleGrants.rollover(user.userId(), boundary);
      UserBook book = new UserBook(user, live);
      UserBook.CycleClosed closed = book.closeCycle(next, operationId, rolloverId, now, journal);
      closed.rollover().sources().stream().filter(Grant::mirrored).forEach(voids::add);
      return new Cycle(book, boundary, operationId, rolloverId, closed, referrals);
    }

    /** How many grants the new cycle opens with: the rollover, the free grant, the referral grant. */
    int grantsOf(Cycle c) {
      return (c.closed().rollover().total() > 0 ? 1 : 0) + (config.freeGrantCredits() > 0 ? 1 : 0)
          + (c.referrals() * config.resets().referralCreditsPerReferral() > 0 ? 1 : 0);
    }

    /**
     * Opens the new cycle: the rollover grant (worth its sources' value), the free grant and, for a user who took
     * part in referrals, the referral grant, both expiring at the next reset; like every grant they settle
     * outstanding debt first.
     */
    Done open(Cycle c, Iterator<Long> grantIds) {
      UserBook book = c.book();
      User user = book.user();
      String userId = user.userId();
      Instant next = user.nextQuotaReset();
      Rollover.Plan rollover = c.closed().rollover();
      List<String> granted = new ArrayList<>();
      if (rollover.total() > 0) {
        BigDecimal price = BigDecimal.valueOf(rollover.cents())
            .divide(BigDecimal.valueOf(rollover.total()), CentsPerCredit.MAX_SCALE, RoundingMode.HALF_UP);
        Grant grant = grant(book, grantIds.next(), new GrantWriter.Spec(c.rolloverId(), GrantType.ROLLOVER,
            rollover.total(), "Rolled over " + rollover.total() + " credits from the cycle ending " + c.boundary(),
            null), new GrantValue(rollover.cents(), price), JournalKind.ROLLOVER_IN);
        rollovers.add(new LedgerStore.RolledOver(grant.grantId(), c.rolloverId(), rollover.sources()));
        granted.add(c.rolloverId());
      }
      // an org's pool gets ORG_FREE_GRANT_CREDITS (none by default; nor referral credits: orgs make no referrals)
      long free = config.freeGrantCreditsOf(userId);
      if (free > 0) {
        String freeId = CycleGrants.free(userId, next);
        grant(book, grantIds.next(), new GrantWriter.Spec(freeId, GrantType.FREE, free, null, next), null,
            JournalKind.GRANT);
        granted.add(freeId);
      }
      long referralCredits = c.referrals() * config.resets().referralCreditsPerReferral();
      if (referralCredits > 0) {
        String referralId = CycleGrants.referral(userId, next);
        grant(book, grantIds.next(), new GrantWriter.Spec(referralId, GrantType.REFERRAL, referralCredits,
            "Referral credits for " + c.referrals() + " referrals", next), null, JournalKind.GRANT);
        granted.add(referralId);
      }
      ResetOutcome outcome = new ResetOutcome(userId, true, c.boundary(), next, c.closed().expired(),
          rollover.total(), List.copyOf(granted));
      record(c.operationId(), userId, OperationKind.RESET,
          new JsonObject().put("userId", userId).put("boundary", c.boundary().toString()).encode(), 200,
          Json.resetOutcome(outcome));
      events.add(LedgerEvents.resetCompleted(outcome));
      started.add(user);
      return new Done(book, outcome);
    }

    /**
     * One of the new cycle's grants, decided in memory like any grant of a write batch. It has no operation record
     * of its own: its operationId is derived from the user and the cycle (no client can send one), the grant row
     * keeps it unique, and the reset's record lists it.
     */
    Grant grant(UserBook book, long grantId, GrantWriter.Spec spec, GrantValue value, JournalKind opening) {
      return open(book, grantId, spec, config.priorityOf(spec.type()), value, opening, now).inserted();
    }

    /**
     * Set-based statements, pipelined: the new grants first (the journal and the rollover sources refer to them;
     * one that exists already fails its statement, and with it those after it), then the operation records, journal
     * entries and balances together, then one statement per table.
     */
    Future<Void> write(SqlConnection conn) {
      return Future.all(List.of(
            store.insertGrants(conn, newGrants, now),
            store.writeDecided(conn, operations, journal, Map.of(), now),
            store.rollOver(conn, rollovers, now),
            store.finishResets(conn, started, now),
            outbox.enqueueVoids(conn, voids, now),
            outbox.enqueueCreates(conn, mirrors, config.stripe().currency(), now),
            eventStore.append(conn, eventsToWrite(), now))).mapEmpty();
    }
  }
}
