package io.creditledger.domain;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How a new grant pays the user's debt: the debts (negative balances, expired grants included: debt is never
 * forgiven) are settled oldest first, as far as the new credits reach.
 */
public final class DebtSettlement {
  private DebtSettlement() {
  }

  /** {@code amount} credits move from the new grant to {@code debtor}. */
  public record Payment(Grant debtor, long amount) {
  }

  public static List<Payment> settle(long available, List<Grant> grants) {
    List<Grant> debtors = new ArrayList<>();
    for (Grant g : grants) {
      if (g.balance() < 0) {
        debtors.add(g);
      }
    }
    debtors.sort(Comparator.comparing(Grant::createdAt).thenComparingLong(Grant::grantId));
    List<Payment> payments = new ArrayList<>();
    long left = available;
    for (Grant d : debtors) {
      if (left == 0) {
        break;
      }
      long pay = Math.min(left, -d.balance());
      payments.add(new Payment(d, pay));
      left -= pay;
    }
    return payments;
  }
}
