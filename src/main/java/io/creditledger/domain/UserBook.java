package io.creditledger.domain;

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

  public UserBook(User user, List<Grant> live) {
    this.user = user;
    this.live = List.copyOf(live);
    this.usage = user.usageThisCycle();
  }

  public User user() {
    return user;
  }

  /**
   * Consumes {@code amount} credits (expired grants swept first), recording the entries in {@code batch}; answers
   * the consumption, or the refusal (nothing is recorded then).
   */
  public Decision consume(String operationId, long amount, long maxDebt, Instant now, JournalBatch batch) {
    ConsumptionPlan.Outcome outcome = ConsumptionPlan.plan(live, amount, maxDebt, now);
    if (outcome instanceof ConsumptionPlan.Refused refused) {
      return new Decision(null, refused);
    }
    ConsumptionPlan.Planned plan = (ConsumptionPlan.Planned) outcome;
    Expiry.sweep(live, batch, now);
    for (ConsumptionPlan.Take take : plan.takes()) {
      batch.add(take.grant(), -take.amount(), JournalKind.CONSUME, operationId, "Consumed " + take.amount() + " credits");
    }
    List<Grant> after = new ArrayList<>(live.size());
    live.forEach(g -> after.add(g.withBalance(batch.balanceOf(g))));
    live = after;
    usage += amount;
    return new Decision(new Consumption(operationId, amount, plan.fromPurchased(),
        Balance.of(after, now, usage, user.nextQuotaReset())), null);
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
}
