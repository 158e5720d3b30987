package io.creditledger.domain;

import io.creditledger.error.ErrorCode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One user as a write batch sees it, under the user's lock: the user row and the live grants, with the balances and
 * the usage the batch's operations have left so far. Consumptions are decided here, in memory and in arrival order;
 * their journal entries go to the batch's {@link JournalBatch}, written once for the whole batch.
 */
public final class UserBook {
  private User user;
  private List<Grant> live;
  private long usage;
  /** the holds stored as held (some may have expired since), and those placed by the batch */
  private final List<Hold> holds;

  public UserBook(User user, List<Grant> live) {
    this(user, live, List.of());
  }

  public UserBook(User user, List<Grant> live, List<Hold> holds) {
    this.user = user;
    this.live = List.copyOf(live);
    this.usage = user.usageThisCycle();
    this.holds = new ArrayList<>(holds);
  }

  public User user() {
    return user;
  }

  /**
   * Consumes {@code amount} credits (expired grants swept first), recording the entries in {@code batch}; answers
   * the consumption, or the refusal (nothing is recorded then).
   */
  public Decision consume(String operationId, long amount, long maxDebt, Instant now, JournalBatch batch) {
    ConsumptionPlan.Outcome outcome = ConsumptionPlan.plan(live, amount, held(now), maxDebt, now);
    if (outcome instanceof ConsumptionPlan.Refused refused) {
      return new Decision(null, refused);
    }
    return new Decision(apply((ConsumptionPlan.Planned) outcome, operationId, amount, now, batch), null);
  }

  private Consumption apply(ConsumptionPlan.Planned plan, String operationId, long amount, Instant now,
                            JournalBatch batch) {
    Expiry.sweep(live, batch, now);
    for (ConsumptionPlan.Take take : plan.takes()) {
      batch.add(take.grant(), -take.amount(), JournalKind.CONSUME, operationId, "Consumed " + take.amount() + " credits");
    }
    List<Grant> after = new ArrayList<>(live.size());
    live.forEach(g -> after.add(g.withBalance(batch.balanceOf(g))));
    live = after;
    usage += amount;
    return new Consumption(operationId, amount, plan.fromPurchased(), balance(now));
  }

  /** The balance as the batch has left it. */
  public Balance balance(Instant now) {
    return Balance.of(live, held(now), now, usage, user.nextQuotaReset());
  }

  /** What the user's active holds reserve at {@code now}. */
  public long held(Instant now) {
    long held = 0;
    for (Hold h : holds) {
      if (h.heldAt(now)) {
        held += h.amount();
      }
    }
    return held;
  }

  /** The user's hold {@code holdId} while it is held (stored as held, or placed by this batch), else null. */
  public Hold heldHold(String holdId) {
    for (Hold h : holds) {
      if (h.holdId().equals(holdId)) {
        return h;
      }
    }
    return null;
  }

  /** Adds holds stored as held (a book built without them: a reset's). */
  public void holding(List<Hold> stored) {
    holds.addAll(stored);
  }

  /** Holds stored as held that expired by {@code now}: the batch writes their expiry. */
  public List<Hold> expiredHolds(Instant now) {
    List<Hold> expired = new ArrayList<>();
    for (Hold h : holds) {
      if (h.state() == Hold.State.HELD && !h.heldAt(now)) {
        expired.add(h.asOf(now));
      }
    }
    return expired;
  }

  /**
   * Places a hold of {@code amount} credits until {@code expiresAt}: the user must owe nothing and have that many
   * credits available (credits less what other holds reserve).
   */
  public HoldDecision hold(String holdId, long amount, Instant expiresAt, Instant now) {
    return hold(holdId, amount, expiresAt, now, null);
  }

  /** Like {@link #hold(String, long, Instant, Instant)}, on an org's pool for one of its members. */
  public HoldDecision hold(String holdId, long amount, Instant expiresAt, Instant now, String memberId) {
    long debt = ConsumptionPlan.debtOf(live);
    if (debt > 0) {
      return new HoldDecision(null, null, new ConsumptionPlan.Refused(ErrorCode.DEBT_OUTSTANDING,
          "The user owes " + debt + " credits; the next grant settles the debt before credits can be held"));
    }
    long available = balance(now).available();
    if (amount > available) {
      return new HoldDecision(null, null, new ConsumptionPlan.Refused(ErrorCode.INSUFFICIENT_CREDITS,
          "The user has " + Math.max(0, available) + " credits available and " + amount + " were asked to be held"));
    }
    Hold hold = new Hold(holdId, user.userId(), amount, Hold.State.HELD, expiresAt, now, null, null, null, memberId);
    holds.add(hold);
    return new HoldDecision(hold, balance(now), null);
  }

  /**
   * Captures {@code hold} (held by this user at {@code now}): consumes {@code amount} in the usual order and lets
   * the rest of the hold go. Up to what the hold holds it cannot be refused (the hold promised those credits):
   * what the grants no longer cover becomes debt, past {@code maxDebt} if need be ({@code fallback}, the user's
   * newest grant, carries it when no grant is live). More than the hold holds follows consumption's rules, with
   * the hold's credits counted as the user's. A refusal changes nothing.
   */
  public CaptureDecision capture(Hold hold, String operationId, long amount, long maxDebt, Grant fallback, Instant now,
                         JournalBatch batch) {
    long otherHolds = held(now) - hold.amount();
    ConsumptionPlan.Planned plan;
    if (amount <= hold.amount()) {
      if (live.isEmpty() && fallback != null) {
        live = List.of(fallback); // the grant that carries the debt becomes live with it
      }
      plan = ConsumptionPlan.force(live, amount, now);
    } else {
      ConsumptionPlan.Outcome outcome = ConsumptionPlan.plan(live, amount, otherHolds, maxDebt, now);
      if (outcome instanceof ConsumptionPlan.Refused refused) {
        return new CaptureDecision(null, null, refused);
      }
      plan = (ConsumptionPlan.Planned) outcome;
    }
    holds.removeIf(h -> h.holdId().equals(hold.holdId()));
    Hold captured = hold.closed(Hold.State.CAPTURED, now, operationId, amount);
    return new CaptureDecision(captured, apply(plan, operationId, amount, now, batch), null);
  }

  /** Releases {@code hold} (held by this user): its credits are the user's to spend again. */
  public Hold release(Hold hold, Instant now) {
    holds.removeIf(h -> h.holdId().equals(hold.holdId()));
    return hold.closed(Hold.State.RELEASED, now, null, null);
  }

  /**
   * Grants credits: a grant with the id {@code grantId} (allocated beforehand), its principal as its balance, paying
   * the user's debt first; the entries go to {@code batch}. Answers the row to insert and the grant as it is after.
   */
  public GrantDecision grant(long grantId, String operationId, GrantType type, int priority, long amount,
                             String description, Instant expiresAt, Instant now, JournalBatch batch) {
    return grant(grantId, operationId, type, priority, amount, description, expiresAt, null, JournalKind.GRANT, now,
        batch);
  }

  /**
   * @param value null: the credits' worth at the user's price
   * @param opening the kind of the grant's first journal entry: grant, or rollover_in for a rollover
   */
  public GrantDecision grant(long grantId, String operationId, GrantType type, int priority, long amount,
                             String description, Instant expiresAt, GrantValue value, JournalKind opening,
                             Instant now, JournalBatch batch) {
    GrantTerms terms = GrantTerms.of(user, type, amount, description, expiresAt,
        value == null ? null : value.cents(), value == null ? null : value.centsPerCredit(), currentLive(batch));
    Grant inserted = new Grant(grantId, user.userId(), operationId, type, priority, amount, amount, terms.cents(),
        terms.centsPerCredit(), terms.expiresAt(), terms.description(), now, null, null, null,
        user.stripeCustomerId(), null, null, null);
    batch.open(inserted, opening, terms.description());
    terms.journalSettlement(batch, inserted);
    Grant after = inserted.withBalance(batch.balanceOf(inserted));
    List<Grant> grants = new ArrayList<>(live.size() + 1);
    live.forEach(g -> grants.add(g.withBalance(batch.balanceOf(g))));
    grants.add(after);
    live = grants;
    return new GrantDecision(inserted, after, new GrantView.Created(GrantView.of(after, now), terms.settled()));
  }

  /**
   * Closes the user's cycle (the first half of a reset): credits left on expired grants are journalled as
   * {@code expiry} (debt stays), and the balances of the grants that roll over ({@link Rollover}) leave them as
   * {@code rollover_out} under {@code operationId}. From then on the book is the user's in the cycle that ends at
   * {@code next}, with no usage and without the emptied grants, which the caller closes.
   */
  public CycleClosed closeCycle(Instant next, String operationId, String rolloverId, Instant now, JournalBatch batch) {
    int before = batch.entries().size();
    Expiry.sweep(live, batch, now);
    long expired = 0;
    for (JournalBatch.Entry e : batch.entries().subList(before, batch.entries().size())) {
      expired -= e.delta();
    }
    Rollover.Plan rollover = Rollover.plan(live, now);
    for (Grant source : rollover.sources()) {
      batch.add(source, -source.balance(), JournalKind.ROLLOVER_OUT, operationId, "Rolled over into " + rolloverId);
    }
    Set<Long> emptied = new HashSet<>();
    rollover.sources().forEach(g -> emptied.add(g.grantId()));
    List<Grant> remaining = new ArrayList<>(live.size());
    for (Grant g : currentLive(batch)) {
      if (!emptied.contains(g.grantId())) {
        remaining.add(g);
      }
    }
    live = remaining;
    user = user.startingCycle(next);
    usage = 0;
    return new CycleClosed(expired, rollover);
  }

  /** What closing a cycle found: the credits that expired, and what rolls over. */
  public record CycleClosed(long expired, Rollover.Plan rollover) {
  }

  private List<Grant> currentLive(JournalBatch batch) {
    List<Grant> current = new ArrayList<>(live.size());
    live.forEach(g -> current.add(g.withBalance(batch.balanceOf(g))));
    return current;
  }

  /** A grant decided: the row to insert (balance = principal), the grant after its debt settlement, the answer. */
  public record GrantDecision(Grant inserted, Grant after, GrantView.Created answer) {
  }

  /** A consumption decided: {@code consumption} when it applies, else {@code refused}. */
  public record Decision(Consumption consumption, ConsumptionPlan.Refused refused) {
  }

  /** A hold decided: the hold placed and the balance after, else {@code refused}. */
  public record HoldDecision(Hold hold, Balance balance, ConsumptionPlan.Refused refused) {
  }

  /** A capture decided: the hold as captured and the consumption, else {@code refused}. */
  public record CaptureDecision(Hold hold, Consumption consumption, ConsumptionPlan.Refused refused) {
  }
}
