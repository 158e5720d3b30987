package io.creditledger.domain;

import io.creditledger.error.ErrorCode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Decides which grants a consumption takes from, without touching the database.
 *
 * <p>Order: priority ascending, then soonest expiry (never-expiring last), then oldest. Grants with zero or
 * negative balance are skipped. A user who owes anything cannot consume. When the active grants do not cover
 * the amount, the last active grant in that order goes negative by the shortfall, provided the shortfall stays
 * within {@code maxDebt}; otherwise, or with no active grant at all, the request is refused whole.
 */
public final class ConsumptionPlan {
  public static final Comparator<Grant> ORDER = Comparator.comparingInt(Grant::priority)
      .thenComparing(Grant::expiresAt, Comparator.nullsLast(Comparator.naturalOrder()))
      .thenComparing(Grant::createdAt)
      .thenComparingLong(Grant::grantId);

  private ConsumptionPlan() {
  }

  public sealed interface Outcome permits Planned, Refused {
  }

  /** Take {@code amount} credits from {@code grant}; the grant's balance becomes {@code balance - amount}. */
  public record Take(Grant grant, long amount) {
    public long balanceAfter() {
      return grant.balance() - amount;
    }
  }

  /** @param fromPurchased credits taken from purchase grants (debt placed on a purchase grant included) */
  public record Planned(List<Take> takes, long fromPurchased) implements Outcome {
  }

  public record Refused(ErrorCode code, String message) implements Outcome {
  }

  public static long debtOf(List<Grant> grants) {
    long debt = 0;
    for (Grant g : grants) {
      if (g.balance() < 0) {
        debt -= g.balance();
      }
    }
    return debt;
  }

  public static List<Grant> activeInOrder(List<Grant> grants, Instant now) {
    List<Grant> active = new ArrayList<>();
    for (Grant g : grants) {
      if (g.activeAt(now)) {
        active.add(g);
      }
    }
    active.sort(ORDER);
    return active;
  }

  public static Outcome plan(List<Grant> grants, long amount, long maxDebt, Instant now) {
    if (amount <= 0) {
      throw new IllegalArgumentException("amount must be positive");
    }
    long debt = debtOf(grants);
    if (debt > 0) {
      return new Refused(ErrorCode.DEBT_OUTSTANDING,
          "The user owes " + debt + " credits; the next grant settles the debt before credits can be consumed");
    }
    List<Grant> active = activeInOrder(grants, now);
    if (active.isEmpty()) {
      return new Refused(ErrorCode.INSUFFICIENT_CREDITS, "The user has no active grant to consume from");
    }
    List<Take> takes = new ArrayList<>();
    long remaining = amount;
    for (Grant g : active) {
      if (remaining == 0) {
        break;
      }
      if (g.balance() > 0) {
        long take = Math.min(g.balance(), remaining);
        takes.add(new Take(g, take));
        remaining -= take;
      }
    }
    if (remaining > 0) {
      if (remaining > maxDebt) {
        return new Refused(ErrorCode.INSUFFICIENT_CREDITS, "The user has " + (amount - remaining) + " credits, "
            + amount + " were asked, and debt may not exceed " + maxDebt);
      }
      Grant last = active.get(active.size() - 1);
      if (!takes.isEmpty() && takes.get(takes.size() - 1).grant().grantId() == last.grantId()) {
        Take lastTake = takes.remove(takes.size() - 1);
        takes.add(new Take(last, lastTake.amount() + remaining));
      } else {
        takes.add(new Take(last, remaining));
      }
    }
    long fromPurchased = 0;
    for (Take t : takes) {
      if (t.grant().type() == GrantType.PURCHASE) {
        fromPurchased += t.amount();
      }
    }
    return new Planned(List.copyOf(takes), fromPurchased);
  }
}
