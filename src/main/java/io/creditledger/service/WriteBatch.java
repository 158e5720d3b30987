package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.db.DbErrors;
import io.creditledger.db.Transactions;
import io.creditledger.domain.Accounts;
import io.creditledger.domain.Answer;
import io.creditledger.domain.AutoTopUp;
import io.creditledger.domain.Balance;
import io.creditledger.domain.BalanceSignals;
import io.creditledger.domain.Capture;
import io.creditledger.domain.Command;
import io.creditledger.domain.Consumption;
import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.Hold;
import io.creditledger.domain.HoldAnswer;
import io.creditledger.domain.JournalKind;
import io.creditledger.domain.OperationKind;
import io.creditledger.domain.ResetOutcome;
import io.creditledger.domain.User;
import io.creditledger.domain.UserBook;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.money.CentsPerCredit;
import io.creditledger.store.AutoTopUpStore;
import io.creditledger.store.EventStore;
import io.creditledger.store.HoldStore;
import io.creditledger.store.LedgerStore;
import io.creditledger.store.OrgStore;
import io.creditledger.store.OutboxStore;
import io.creditledger.store.Stores;
import io.creditledger.wire.Input;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Writes many balance-changing operations (consumptions, grants, revokes, referrals, resets) in one transaction, the way
 * TigerBeetle batches: every user of the batch is locked in one statement (in user-id order), their live grants are
 * read in the same round trip, consumptions and grants are decided in memory in arrival order ({@link UserBook}; a
 * grant's id is allocated beforehand), and what was decided is written with set-based statements: the operation
 * records, journal entries, balances and usage with one, the new grants, holds and outbox rows with one per table.
 * Revokes and referrals (and a purchase a refund waits for) run their own statements in the same transaction, each
 * inside a savepoint so that a refused one leaves nothing behind; what was decided before one is written first, and
 * the books of the users it touched are read again after it. Users whose cycle has ended are reset first, together,
 * before anything else touches them.
 * Holds are decided in memory too: the batch reads its users' active holds (and the holds its captures and
 * releases name) with the other reads, and a capture or release is written only if its hold is still held (the
 * sweeper may have expired it meanwhile; the batch is then decided again).
 *
 * <p>Each operation gets its own outcome: a refusal (400, 402, 404, 409, ...) is that operation's answer and touches
 * no other. Nothing is answered before the transaction commits; a failed transaction is retried whole by
 * {@link Transactions} and the outcomes are decided again from what the database then holds.
 */
public final class WriteBatch {
  private final LedgerConfig config;
  private final LedgerStore store;
  private final OutboxStore outbox;
  private final ResetService resets;
  private final LedgerService ledger;
  private final ReferralService referrals;
  private final HoldStore holdStore;
  private final EventStore events;
  private final AutoTopUpStore autoTopUps;
  private final OrgStore orgs;

  public WriteBatch(LedgerConfig config, Stores stores, ResetService resets, LedgerService ledger,
                    ReferralService referrals) {
    this.config = config;
    this.store = stores.ledger();
    this.outbox = stores.outbox();
    this.resets = resets;
    this.ledger = ledger;
    this.referrals = referrals;
    this.holdStore = stores.holds();
    this.events = stores.events();
    this.autoTopUps = stores.autoTopUps();
    this.orgs = stores.orgs();
  }

  /** What one operation of a batch came to: its answer, or the failure it is answered with. */
  public record Outcome(Answer<?> answer, RuntimeException failure) {
    static Outcome of(Answer<?> answer) {
      return new Outcome(answer, null);
    }

    static Outcome failed(RuntimeException failure) {
      return new Outcome(null, failure);
    }
  }

  /**
   * A consumption's operationId was found stored when the batch wrote it: the batch holds a replay (or a conflict)
   * it decided as new. The transaction is rolled back and the batch run again with {@code lookUp}.
   */
  public static final class ReplaysFound extends RuntimeException {
    ReplaysFound() {
      super("The batch holds operations stored before; run it again looking them up", null, false, false);
    }
  }

  /**
   * Runs the batch inside the caller's transaction; answers one outcome per command, in order. Operations are
   * taken as new unless {@code lookUp}: when the INSERT of their records finds an operationId stored already, the
   * batch fails with {@link ReplaysFound}, to be run again with {@code lookUp} (client retries are rare; a lookup
   * for every batch is not). The batch's last writes go out with {@code commit} right behind them: the batch
   * answers once they and the COMMIT are answered.
   */
  public Future<List<Outcome>> run(SqlConnection conn, Supplier<Future<Void>> commit, List<? extends Command> commands,
                                   Instant now, boolean lookUp) {
    List<String> revoked = revokedGrants(commands);
    Future<Map<String, String>> grantOwners = revoked.isEmpty() ? Future.succeededFuture(Map.of())
        : store.grantOwners(conn, revoked);
    return grantOwners.compose(owners -> {
      Set<String> userIds = usersOf(commands, owners);
      // sent together: each statement runs after the one before it on the connection, so the operations and grants
      // are read after the locks are held
      Future<Map<String, User>> locked = store.lockUsers(conn, userIds);
      Future<Map<String, LedgerStore.StoredOperation>> stored = lookUp
          ? store.findOperations(conn, operationIdsOf(commands)) : Future.succeededFuture(Map.of());
      Future<Map<String, List<Grant>>> live = store.liveGrants(conn, userIds, now);
      List<String> purchases = purchasesOf(commands);
      Future<Set<String>> refundsWaiting = purchases.isEmpty() ? Future.succeededFuture(Set.of())
          : store.pendingRefundsFor(conn, purchases);
      int grants = grantsOf(commands);
      Future<List<Long>> grantIds = grants == 0 ? Future.succeededFuture(List.of())
          : store.allocateGrantIds(conn, grants);
      Future<HoldStore.BatchHolds> holds = holdStore.forBatch(conn, userIds, holdIdsOf(commands));
      Future<Map<String, AutoTopUp>> topUps = autoTopUps.forUsers(conn, userIds);
      Map<String, Set<String>> spenders = orgSpenders(commands);
      Future<Map<String, OrgStore.Gate>> gates = spenders.isEmpty() ? Future.succeededFuture(Map.of())
          : orgs.gates(conn, spenders);
      Set<String> capturing = capturingUsers(commands);
      Future<Map<String, Grant>> newest = capturing.isEmpty() ? Future.succeededFuture(Map.of())
          : holdStore.newestGrants(conn, capturing);
      return Future.all(List.of(locked, stored, live, refundsWaiting, grantIds, holds, newest, topUps, gates))
          .compose(read -> resetDue(conn, locked.result(), live.result(), holds.result(), now))
          .compose(books -> {
            Run run = new Run(conn, now, lookUp, stored.result(), owners, books, refundsWaiting.result(),
                grantIds.result(), holds.result().byId(), newest.result(), topUps.result(), gates.result());
            return run.from(commands, 0).compose(v -> run.flush(commit)).map(v -> run.outcomes);
          });
    });
  }

  /**
   * The members of each org who spend from or hold on its pool in this batch, by org id; a capture on an org's pool
   * asks for the org's limit alone (null: no member to look up).
   */
  private static Map<String, Set<String>> orgSpenders(List<? extends Command> commands) {
    Map<String, Set<String>> spenders = new HashMap<>();
    for (Command c : commands) {
      if (c instanceof Command.Consume x && x.memberId() != null) {
        ask(spenders, x.userId(), x.memberId());
      } else if (c instanceof Command.PlaceHold x && x.memberId() != null) {
        ask(spenders, x.userId(), x.memberId());
      } else if (c instanceof Command.CaptureHold x && Accounts.isOrg(x.userId())) {
        ask(spenders, x.userId(), null);
      }
    }
    return spenders;
  }

  private static void ask(Map<String, Set<String>> spenders, String account, String memberId) {
    spenders.computeIfAbsent(Accounts.orgId(account), k -> new HashSet<>()).add(memberId);
  }

  private static int grantsOf(List<? extends Command> commands) {
    return (int) commands.stream().filter(c -> c instanceof Command.GrantCredits).count();
  }

  private static List<String> purchasesOf(List<? extends Command> commands) {
    List<String> ids = new ArrayList<>();
    for (Command c : commands) {
      if (c instanceof Command.GrantCredits g && g.type() == GrantType.PURCHASE) {
        ids.add(g.operationId());
      }
    }
    return ids;
  }

  /** The holds the batch's captures and releases name. */
  private static Set<String> holdIdsOf(List<? extends Command> commands) {
    Set<String> ids = new HashSet<>();
    for (Command c : commands) {
      if (c instanceof Command.CaptureHold x) {
        ids.add(x.holdId());
      } else if (c instanceof Command.ReleaseHold x) {
        ids.add(x.holdId());
      }
    }
    return ids;
  }

  private static Set<String> capturingUsers(List<? extends Command> commands) {
    Set<String> ids = new HashSet<>();
    for (Command c : commands) {
      if (c instanceof Command.CaptureHold x) {
        ids.add(x.userId());
      }
    }
    return ids;
  }

  private static List<String> revokedGrants(List<? extends Command> commands) {
    List<String> ids = new ArrayList<>();
    for (Command c : commands) {
      if (c instanceof Command.Revoke r) {
        ids.add(r.operationId());
      }
    }
    return ids;
  }

  /** Every user an operation of the batch touches, sorted. */
  private static Set<String> usersOf(List<? extends Command> commands, Map<String, String> grantOwners) {
    Set<String> ids = new TreeSet<>();
    for (Command c : commands) {
      ids.addAll(usersOf(c, grantOwners));
    }
    return ids;
  }

  /** The users {@code c} touches (a revoke's: the grant's owner, when the grant exists). */
  private static List<String> usersOf(Command c, Map<String, String> grantOwners) {
    if (c instanceof Command.ForUser x) {
      return List.of(x.userId());
    }
    if (c instanceof Command.Refer x) {
      return List.of(x.referrerId(), x.referredId());
    }
    if (c instanceof Command.Revoke x) {
      String owner = grantOwners.get(x.operationId());
      return owner == null ? List.of() : List.of(owner);
    }
    throw new IllegalArgumentException("Not a write: " + c.getClass().getSimpleName());
  }

  private static Set<String> operationIdsOf(List<? extends Command> commands) {
    Set<String> ids = new HashSet<>();
    for (Command c : commands) {
      if (c instanceof Command.Recorded x) {
        ids.add(x.operationId());
      }
    }
    return ids;
  }

  /**
   * A write of the batch found what it decided as new stored already (an operationId; a hold closed or an auto
   * top-up started meanwhile): the batch is decided again.
   */
  static boolean storedBefore(Throwable failure) {
    return DbErrors.DECIDE_AGAIN.equals(DbErrors.sqlState(failure))
        || DbErrors.isUniqueViolation(failure) && STORED_ONCE.contains(DbErrors.constraint(failure));
  }

  /** The keys under which an operation is stored once: its record, the grant it made, the hold it placed. */
  private static final Set<String> STORED_ONCE = Set.of("operations_pkey", "grants_operation_id_key", "holds_pkey");

  /** The batch's users as it starts: their books, and the resets applied to those whose cycle had ended. */
  private record Books(Map<String, UserBook> books, Map<String, ResetOutcome> resets) {
  }

  /**
   * The books of the batch's users. Users whose cycle ended have their resets applied first, all of them together
   * ({@link ResetService#resetAll}, which answers their books as the resets leave them), so nothing lands in a cycle
   * that is over.
   */
  private Future<Books> resetDue(SqlConnection conn, Map<String, User> users, Map<String, List<Grant>> live,
                                 HoldStore.BatchHolds holds, Instant now) {
    Map<String, UserBook> books = new HashMap<>();
    List<User> due = new ArrayList<>();
    users.forEach((id, user) -> {
      if (ResetService.due(user, now)) {
        due.add(user);
      } else {
        books.put(id, new UserBook(user, live.getOrDefault(id, List.of()),
            holds.heldByUser().getOrDefault(id, List.of())));
      }
    });
    if (due.isEmpty()) {
      return Future.succeededFuture(new Books(books, Map.of()));
    }
    return resets.resetAll(conn, due, live, now).map(done -> {
      Map<String, ResetOutcome> outcomes = new HashMap<>();
      done.forEach((id, reset) -> {
        // a reset leaves holds in place: they count against the new cycle's credits
        reset.book().holding(holds.heldByUser().getOrDefault(id, List.of()));
        books.put(id, reset.book());
        outcomes.put(id, reset.outcome());
      });
      return new Books(books, outcomes);
    });
  }

  /** What a batch decided and writes at its next flush: beside grants and the journal, usage and holds. */
  private static final class Pending extends DecidedWrites {
    final Map<String, Long> usage = new HashMap<>();
    final List<OutboxStore.UsageReport> reports = new ArrayList<>();
    final List<Hold> newHolds = new ArrayList<>();
    /** captures and releases: each must find its hold still held when written */
    final List<Hold> closedHolds = new ArrayList<>();
    /** holds stored as held found past their expiry (the sweeper may have written it meanwhile) */
    final Map<String, Hold> expiredHolds = new HashMap<>();
    /** auto top-ups started: their charges, and each user's top-up now in flight */
    final List<OutboxStore.TopUpCharge> charges = new ArrayList<>();
    /** consumptions from orgs' pools: who spent them */
    final List<OrgStore.Spent> spent = new ArrayList<>();

    boolean isEmpty() {
      return operations.isEmpty() && closedHolds.isEmpty() && expiredHolds.isEmpty();
    }
  }

  /** One execution of a batch: the books, what the consumptions decided so far will write, and the outcomes. */
  private final class Run {
    final SqlConnection conn;
    final Instant now;
    final Map<String, LedgerStore.StoredOperation> stored;
    final Map<String, String> grantOwners;
    final Map<String, UserBook> books = new HashMap<>();
    /** the resets this batch applied, by user, until a reset command of the batch answers with one */
    final Map<String, ResetOutcome> resetsDone;
    final List<Outcome> outcomes = new ArrayList<>();
    /** operationIds that grants and referrals of this batch used (stored by their own statements) */
    final Set<String> writtenBySql = new HashSet<>();
    /** decided since the last flush */
    Pending pending = new Pending();
    /** purchases with refunds waiting for them: they take the SQL path, which applies the refunds */
    final Set<String> refundsWaiting;
    final Iterator<Long> grantIds;
    /** holds by id as read (any state) or as this batch left them */
    final Map<String, Hold> holds;
    /** the newest grant of each capturing user (see {@link UserBook#capture}) */
    final Map<String, Grant> newestGrants;
    /** the batch users' enabled auto top-ups, as this batch leaves them */
    final Map<String, AutoTopUp> topUps;
    /** the orgs whose pools this batch spends from: their limits, and which spenders are members */
    final Map<String, OrgStore.Gate> gates;

    /** operations refused without looking up their operationId (it may belong to a stored operation) */
    final List<String> refusedUnchecked = new ArrayList<>();
    final boolean lookedUp;

    Run(SqlConnection conn, Instant now, boolean lookedUp, Map<String, LedgerStore.StoredOperation> stored,
        Map<String, String> grantOwners, Books books, Set<String> refundsWaiting, List<Long> grantIds,
        Map<String, Hold> holds, Map<String, Grant> newestGrants, Map<String, AutoTopUp> topUps,
        Map<String, OrgStore.Gate> gates) {
      this.conn = conn;
      this.now = now;
      this.lookedUp = lookedUp;
      this.stored = new HashMap<>(stored);
      this.grantOwners = grantOwners;
      this.books.putAll(books.books());
      this.resetsDone = new HashMap<>(books.resets());
      this.refundsWaiting = refundsWaiting;
      this.grantIds = grantIds.iterator();
      this.holds = new HashMap<>(holds);
      this.newestGrants = newestGrants;
      this.topUps = new HashMap<>(topUps);
      this.gates = gates;
      this.books.values().forEach(this::noteExpiredHolds);
    }

    void noteExpiredHolds(UserBook book) {
      for (Hold h : book.expiredHolds(now)) {
        pending.expiredHolds.put(h.holdId(), h);
        holds.put(h.holdId(), h);
      }
    }

    /** Decides the commands from {@code i} on, in order. */
    Future<Void> from(List<? extends Command> commands, int i) {
      for (int k = i; k < commands.size(); k++) {
        Command c = commands.get(k);
        if (c instanceof Command.Consume consume) {
          outcomes.add(consume(consume));
        } else if (c instanceof Command.ApplyReset reset) {
          outcomes.add(reset(reset));
        } else if (c instanceof Command.PlaceHold hold) {
          outcomes.add(hold(hold));
        } else if (c instanceof Command.CaptureHold capture) {
          outcomes.add(capture(capture));
        } else if (c instanceof Command.ReleaseHold release) {
          outcomes.add(release(release));
        } else if (c instanceof Command.GrantCredits g && !refundsWaiting.contains(g.operationId())) {
          outcomes.add(grant(g));
        } else {
          int next = k + 1;
          return inSavepoint(c).compose(outcome -> {
            outcomes.add(outcome);
            return from(commands, next);
          });
        }
      }
      return Future.succeededFuture();
    }

    Outcome consume(Command.Consume c) {
      JsonObject asked = new JsonObject().put("userId", c.userId()).put("amount", c.amount());
      String request = (c.memberId() == null ? asked : asked.put("memberId", c.memberId())).encode();
      try {
        if (writtenBySql.contains(c.operationId())) {
          throw Idempotency.conflict(c.operationId());
        }
        LedgerStore.StoredOperation prior = stored.get(c.operationId());
        if (prior != null) {
          return Outcome.of(Idempotency.replayOrConflict(prior, c.operationId(), OperationKind.CONSUME, request,
              Json::readConsumption));
        }
        UserBook book = books.get(c.userId());
        if (book == null) {
          throw refused(c.operationId(), Accounts.notFound(c.userId()));
        }
        Balance before = book.balance(now);
        if (c.memberId() != null) {
          admit(c.userId(), c.memberId(), c.operationId(), c.amount(), before);
        }
        UserBook.Decision decision = book.consume(c.operationId(), c.amount(), config.maxDebt(), now, pending.journal);
        if (decision.refused() != null) {
          throw refused(c.operationId(),
              new LedgerException(decision.refused().code(), decision.refused().message()));
        }
        Consumption consumption = decision.consumption();
        announce(book.user(), c.operationId(), before, consumption.balance());
        record(c.operationId(), c.userId(), OperationKind.CONSUME, request, 200, Json.consumption(consumption));
        spent(book.user(), c.operationId(), c.amount(), c.memberId());
        return Outcome.of(Answer.ok(consumption));
      } catch (LedgerException e) {
        return Outcome.failed(e);
      }
    }

    /**
     * An org's pool ({@code account}) admits a consumption or a hold of {@code amount} for one of its members (as the
     * batch read the membership), within the org's credit limit for the cycle.
     */
    void admit(String account, String memberId, String operationId, long amount, Balance before) {
      OrgStore.Gate gate = gates.get(Accounts.orgId(account));
      if (gate == null || !gate.members().contains(memberId)) {
        throw refused(operationId, new LedgerException(ErrorCode.NOT_A_MEMBER,
            "\"" + memberId + "\" is not a member of org \"" + Accounts.orgId(account) + "\""));
      }
      withinLimit(gate, operationId, amount, before);
    }

    /**
     * The limit counts what the cycle consumed (as this batch leaves it) and what active holds reserve, so that
     * their captures fit too: {@code usageThisCycle + held + amount <= creditLimit}.
     */
    void withinLimit(OrgStore.Gate gate, String operationId, long amount, Balance before) {
      if (gate != null && gate.creditLimit() != null
          && before.usageThisCycle() + before.held() + amount > gate.creditLimit()) {
        throw refused(operationId, new LedgerException(ErrorCode.ORG_CREDIT_LIMIT, "The org may consume "
            + gate.creditLimit() + " credits a cycle; it has consumed " + before.usageThisCycle() + " and holds "
            + before.held()));
      }
    }

    /** A hold, decided in memory: {@code available} must cover it. */
    Outcome hold(Command.PlaceHold c) {
      JsonObject asked = new JsonObject().put("userId", c.userId()).put("amount", c.amount())
          .put("ttl", c.ttl().toString());
      String request = (c.memberId() == null ? asked : asked.put("memberId", c.memberId())).encode();
      try {
        if (writtenBySql.contains(c.operationId())) {
          throw Idempotency.conflict(c.operationId());
        }
        LedgerStore.StoredOperation prior = stored.get(c.operationId());
        if (prior != null) {
          return Outcome.of(Idempotency.replayOrConflict(prior, c.operationId(), OperationKind.HOLD, request,
              Json::readHoldAnswer));
        }
        UserBook book = books.get(c.userId());
        if (book == null) {
          throw refused(c.operationId(), Accounts.notFound(c.userId()));
        }
        if (c.memberId() != null) {
          admit(c.userId(), c.memberId(), c.operationId(), c.amount(), book.balance(now));
        }
        UserBook.HoldDecision decision = book.hold(c.operationId(), c.amount(), now.plus(c.ttl()), now, c.memberId());
        if (decision.refused() != null) {
          throw refused(c.operationId(),
              new LedgerException(decision.refused().code(), decision.refused().message()));
        }
        HoldAnswer answer = new HoldAnswer(decision.hold(), decision.balance());
        JsonObject response = Json.holdAnswer(answer);
        pending.newHolds.add(decision.hold());
        holds.put(c.operationId(), decision.hold());
        record(c.operationId(), c.userId(), OperationKind.HOLD, request, 201, response);
        return Outcome.of(Answer.created(answer));
      } catch (LedgerException e) {
        return Outcome.failed(e);
      }
    }

    /** A capture: the hold must be this user's and held; it is consumed like a consumption and closed. */
    Outcome capture(Command.CaptureHold c) {
      String request = new JsonObject().put("userId", c.userId()).put("holdId", c.holdId()).put("amount", c.amount())
          .encode();
      try {
        if (writtenBySql.contains(c.operationId())) {
          throw Idempotency.conflict(c.operationId());
        }
        LedgerStore.StoredOperation prior = stored.get(c.operationId());
        if (prior != null) {
          return Outcome.of(Idempotency.replayOrConflict(prior, c.operationId(), OperationKind.CAPTURE, request,
              Json::readCapture));
        }
        UserBook book = books.get(c.userId());
        if (book == null) {
          throw refused(c.operationId(), Accounts.notFound(c.userId()));
        }
        Hold hold = book.heldHold(c.holdId());
        if (hold == null || !hold.heldAt(now)) {
          throw refused(c.operationId(), notCapturable(c.userId(), c.holdId()));
        }
        Balance before = book.balance(now);
        if (Accounts.isOrg(c.userId()) && c.amount() > hold.amount()) {
          // the hold's own credits are within the limit already; what the capture takes beyond them must fit
          withinLimit(gates.get(Accounts.orgId(c.userId())), c.operationId(), c.amount() - hold.amount(), before);
        }
        UserBook.CaptureDecision decision = book.capture(hold, c.operationId(), c.amount(), config.maxDebt(),
            newestGrants.get(c.userId()), now, pending.journal);
        if (decision.refused() != null) {
          throw refused(c.operationId(),
              new LedgerException(decision.refused().code(), decision.refused().message()));
        }
        Capture capture = new Capture(c.holdId(), Math.max(0, hold.amount() - c.amount()), decision.consumption());
        announce(book.user(), c.operationId(), before, decision.consumption().balance());
        JsonObject response = Json.capture(capture);
        pending.closedHolds.add(decision.hold());
        holds.put(c.holdId(), decision.hold());
        record(c.operationId(), c.userId(), OperationKind.CAPTURE, request, 200, response);
        spent(book.user(), c.operationId(), c.amount(), hold.memberId());
        return Outcome.of(Answer.ok(capture));
      } catch (LedgerException e) {
        return Outcome.failed(e);
      }
    }

    /** Why a hold that is not held by the user cannot be captured. */
    LedgerException notCapturable(String userId, String holdId) {
      Hold hold = holds.get(holdId);
      if (hold == null || !hold.userId().equals(userId)) {
        return LedgerException.holdNotFound(userId, holdId);
      }
      return hold.stateAt(now) == Hold.State.EXPIRED
          ? new LedgerException(ErrorCode.HOLD_EXPIRED, "Hold \"" + holdId + "\" expired at " + hold.expiresAt())
          : new LedgerException(ErrorCode.HOLD_CLOSED, "Hold \"" + holdId + "\" is " + hold.state().wire());
    }

    /**
     * A release: a held hold lets its credits go; releasing a hold released or expired already answers it as it is;
     * a captured one cannot be released.
     */
    Outcome release(Command.ReleaseHold c) {
      UserBook book = books.get(c.userId());
      if (book == null) {
        return Outcome.failed(Accounts.notFound(c.userId()));
      }
      Hold held = book.heldHold(c.holdId());
      if (held != null && held.heldAt(now)) {
        Hold released = book.release(held, now);
        pending.closedHolds.add(released);
        holds.put(c.holdId(), released);
        return Outcome.of(Answer.ok(new HoldAnswer(released, book.balance(now))));
      }
      Hold hold = holds.get(c.holdId());
      if (hold == null || !hold.userId().equals(c.userId())) {
        return Outcome.failed(LedgerException.holdNotFound(c.userId(), c.holdId()));
      }
      if (hold.state() == Hold.State.CAPTURED) {
        return Outcome.failed(new LedgerException(ErrorCode.HOLD_CLOSED,
            "Hold \"" + c.holdId() + "\" was captured"));
      }
      return Outcome.of(Answer.ok(new HoldAnswer(hold.asOf(now), book.balance(now))));
    }

    /**
     * What a consumption or capture leaves behind besides its answer: the events it raises (balance.low,
     * balance.debt), and an auto top-up when the balance it leaves asks for one and none is in flight.
     */
    void announce(User user, String operationId, Balance before, Balance after) {
      AutoTopUp topUp = topUps.get(user.userId());
      // balance.low for LOW_BALANCE_THRESHOLD and for the user's own auto top-up threshold, whichever was crossed
      long low = BalanceSignals.highestCrossed(before, after, config.events().lowBalanceThreshold(),
          topUp == null ? 0 : topUp.threshold());
      pending.events.addAll(LedgerEvents.balanceChanged(user.userId(), operationId, before, after, low));
      if (topUp != null && user.stripeCustomerId() != null && topUp.due(after)) {
        String topUpId = topUp.nextOperationId();
        long credits = topUp.credits(after);
        pending.charges.add(new OutboxStore.TopUpCharge(user.userId(), topUpId, credits,
            CentsPerCredit.centsFor(credits, user.centsPerCredit()), user.stripeCustomerId(),
            topUp.paymentMethodId()));
        topUps.put(user.userId(), topUp.started(now));
      }
    }

    void record(String operationId, String userId, OperationKind kind, String request, int status,
                JsonObject response) {
      stored.put(operationId, pending.record(operationId, userId, kind, request, status, response).stored());
    }

    /** Usage of the cycle, and its report to Stripe when the user is mirrored. */
    /**
     * Usage this cycle, the usage reported to Stripe, and, on an org's pool, who spent it ({@code memberId}, null
     * on a user's own credits).
     */
    void spent(User user, String operationId, long amount, String memberId) {
      pending.usage.merge(user.userId(), amount, Long::sum);
      if (user.stripeCustomerId() != null && config.stripe().reportsUsage()) {
        pending.reports.add(new OutboxStore.UsageReport(user.userId(), user.stripeCustomerId(),
            config.stripe().meterEventName(), operationId, amount, now));
      }
      if (memberId != null) {
        pending.spent.add(new OrgStore.Spent(operationId, Accounts.orgId(user.userId()), memberId, amount));
      }
    }

    /**
     * A reset asked for: the one this batch applied to the user when the user was due (the first reset command
     * for the user answers with it), else "not due".
     */
    Outcome reset(Command.ApplyReset c) {
      ResetOutcome done = resetsDone.remove(c.userId());
      if (done != null) {
        return Outcome.of(Answer.ok(done));
      }
      UserBook book = books.get(c.userId());
      if (book == null) {
        return Outcome.failed(Accounts.notFound(c.userId()));
      }
      return Outcome.of(Answer.ok(ResetOutcome.notDue(c.userId(), book.user().nextQuotaReset())));
    }

    /**
     * A refusal decided without the stored operations at hand: the operationId may be a replay's (answered with what
     * was stored) or another operation's (a conflict), which the batch's last flush finds out before its commit.
     */
    LedgerException refused(String operationId, LedgerException refusal) {
      if (!lookedUp) {
        refusedUnchecked.add(operationId);
      }
      return refusal;
    }

    /** A grant, decided in memory like a consumption (its id allocated beforehand). */
    Outcome grant(Command.GrantCredits c) {
      GrantWriter.Spec spec = new GrantWriter.Spec(c.operationId(), c.type(), c.amount(), c.description(), c.expiresAt());
      String request = spec.canonical(c.userId());
      long grantId = grantIds.next();
      try {
        if (c.expiresAt() != null && !c.expiresAt().isAfter(now)) {
          throw Input.invalid("expiresAt", "must be in the future");
        }
        if (writtenBySql.contains(c.operationId())) {
          throw Idempotency.conflict(c.operationId());
        }
        LedgerStore.StoredOperation prior = stored.get(c.operationId());
        if (prior != null) {
          return Outcome.of(Idempotency.replayOrConflict(prior, c.operationId(), OperationKind.GRANT, request,
              Json::readCreated));
        }
        UserBook book = books.get(c.userId());
        if (book == null) {
          throw refused(c.operationId(), Accounts.notFound(c.userId()));
        }
        DecidedWrites.Granted granted = pending.grant(book, grantId, spec, config.priorityOf(c.type()), null,
            JournalKind.GRANT, now);
        stored.put(c.operationId(), granted.recorded().stored());
        pending.events.add(LedgerEvents.grantCreated(granted.decision().answer()));
        return Outcome.of(Answer.created(granted.decision().answer()));
      } catch (LedgerException e) {
        return Outcome.failed(e);
      }
    }

    /**
     * A revoke, a referral, or a purchase with refunds waiting: the consumptions and grants decided so far are written first (it reads the database), then
     * it runs inside a savepoint, rolled back when it is refused; the books of its users are read again after it.
     */
    Future<Outcome> inSavepoint(Command c) {
      return flush(null).compose(v -> Transactions.inSavepoint(conn, () -> sqlOperation(c)))
          .map(Outcome::of)
          .recover(failure -> failure instanceof LedgerException e ? Future.succeededFuture(Outcome.failed(e))
              : Future.failedFuture(failure))
          .compose(outcome -> reload(c).map(outcome));
    }

    Future<Answer<?>> sqlOperation(Command c) {
      if (c instanceof Command.GrantCredits g) {
        writtenBySql.add(g.operationId());
        return ledger.grant(conn, g, now).map(a -> a);
      }
      if (c instanceof Command.Revoke r) {
        return ledger.revoke(conn, r, now).map(a -> a);
      }
      if (c instanceof Command.Refer r) {
        writtenBySql.add(r.operationId());
        return referrals.refer(conn, r, now).map(a -> a);
      }
      throw new IllegalArgumentException("Not a write: " + c.getClass().getSimpleName());
    }

    /** Reads again the books of the users {@code c} touched. */
    Future<Void> reload(Command c) {
      List<String> present = usersOf(c, grantOwners).stream().filter(books::containsKey).distinct().toList();
      if (present.isEmpty()) {
        return Future.succeededFuture();
      }
      return store.lockUsers(conn, present).compose(users -> {
        Future<Map<String, List<Grant>>> live = store.liveGrants(conn, present, now);
        Future<HoldStore.BatchHolds> held = holdStore.forBatch(conn, present, List.of());
        return Future.all(live, held).map(read -> {
          users.forEach((id, user) -> {
            UserBook book = new UserBook(user, live.result().getOrDefault(id, List.<Grant>of()),
                held.result().heldByUser().getOrDefault(id, List.of()));
            books.put(id, book);
            noteExpiredHolds(book);
          });
          return null;
        });
      });
    }

    /**
     * Writes what was decided since the last flush, all sent together (the new grants first: the journal and the
     * balances refer to them): the operation records, journal entries, balances and usage with one statement (most
     * batches write nothing else; each statement costs the database about as much as a few consumptions' rows), the
     * rest with one statement per table. Each statement checks itself: an operationId stored before fails its
     * INSERT, a hold closed or an auto top-up started meanwhile fails its UPDATE, and the batch is then decided again
     * ({@link ReplaysFound}). With {@code commit} (the batch's last flush) the refusals decided
     * without a lookup are checked the same way, and the COMMIT goes right behind, in the same round trip.
     */
    Future<Void> flush(Supplier<Future<Void>> commit) {
      boolean last = commit != null;
      boolean checksRefusals = last && !refusedUnchecked.isEmpty();
      if (pending.isEmpty() && !checksRefusals) {
        return Future.succeededFuture();
      }
      Pending w = pending;
      pending = new Pending();
      List<Future<?>> sent = new ArrayList<>(List.of(
          store.insertGrants(conn, w.newGrants, now),
          store.writeDecided(conn, w.operations, w.journal, w.usage, now),
          holdStore.insert(conn, w.newHolds, now),
          holdStore.close(conn, w.closedHolds, true),
          holdStore.close(conn, List.copyOf(w.expiredHolds.values()), false),
          orgs.recordUsage(conn, w.spent, now),
          outbox.enqueueUsages(conn, w.reports, now),
          outbox.enqueueCreates(conn, w.mirrors, config.stripe().currency(), now),
          events.append(conn, w.eventsToWrite(), now),
          autoTopUps.started(conn, w.charges.stream().map(OutboxStore.TopUpCharge::userId).toList(),
              w.charges.stream().map(OutboxStore.TopUpCharge::operationId).toList(), now),
          outbox.enqueueTopUps(conn, w.charges, config.stripe().currency(), now)));
      if (checksRefusals) {
        sent.add(store.expectNoOperations(conn, refusedUnchecked));
      }
      if (last) {
        sent.add(commit.get());
      }
      return Future.all(sent).transform(ar -> ar.succeeded() ? Future.<Void>succeededFuture()
          : Future.failedFuture(storedBefore(ar.cause()) ? new ReplaysFound() : ar.cause()));
    }
  }
}
