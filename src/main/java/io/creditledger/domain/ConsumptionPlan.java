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
    return plan(grants, amount, 0, maxDebt, now);
  }

  /**
   * Like {@link #plan(List, long, long, Instant)} for a user whose active holds reserve {@code reserved} credits:
   * those are not the consumption's to take, so the shortfall that must stay within {@code maxDebt} counts them.
   * (A hold names no grant: the credits are taken in the usual order, and a capture later finds what is left.)
   */
  public static Outcome plan(List<Grant> grants, long amount, long reserved, long maxDebt, Instant now) {
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
    long has = 0;
    for (Grant g : active) {
      has += Math.max(0, g.balance());
    }
    long available = has - reserved;
    if (amount - available > maxDebt) {
      return new Refused(ErrorCode.INSUFFICIENT_CREDITS, "The user has " + available + " credits available"
          + (reserved > 0 ? " (" + reserved + " more are held)" : "") + ", " + amount
          + " were asked, and debt may not exceed " + maxDebt);
    }
    return take(active, amount, active.get(active.size() - 1));
  }

  /**
   * A consumption that may not be refused (a hold's capture, up to what it held): no debt check and no debt limit.
   * What the active grants do not cover becomes debt on the last active grant or, with none active, on the last
   * of {@code grants} in consumption order.
   */
  public static Planned force(List<Grant> grants, long amount, Instant now) {
    if (amount <= 0) {
      throw new IllegalArgumentException("amount must be positive");
    }
    List<Grant> active = activeInOrder(grants, now);
    Grant carrier = !active.isEmpty() ? active.get(active.size() - 1) : grants.stream().max(ORDER)
        .orElseThrow(() -> new IllegalStateException("No grant to carry the debt of a forced consumption"));
    return take(active, amount, carrier);
  }

  /** Takes {@code amount} from the positive balances of {@code active}, in order; the rest is debt on {@code carrier}. */
  private static Planned take(List<Grant> active, long amount, Grant carrier) {
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
      if (!takes.isEmpty() && takes.get(takes.size() - 1).grant().grantId() == carrier.grantId()) {
        Take lastTake = takes.remove(takes.size() - 1);
        takes.add(new Take(carrier, lastTake.amount() + remaining));
      } else {
        takes.add(new Take(carrier, remaining));
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
