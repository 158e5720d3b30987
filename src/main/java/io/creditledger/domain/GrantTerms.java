package io.creditledger.domain;

import io.creditledger.money.CentsPerCredit;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/**
 * What a new grant is, before it is written: its description (which says how much debt it cleared), its expiry
 * (free and referral grants: the user's next reset unless given; the others: never), its value in cents at a price
 * per credit, and the debt it pays ({@link DebtSettlement}, oldest first).
 */
public record GrantTerms(String description, Instant expiresAt, long cents, BigDecimal centsPerCredit,
                         List<DebtSettlement.Payment> payments) {

  /**
   * @param description null: a description of the grant
   * @param expiresAt null: the type's default expiry
   * @param cents null: the credits' worth at the user's price ({@code centsPerCredit} is then ignored)
   * @param live the user's live grants, whose debts the grant pays
   */
  public static GrantTerms of(User user, GrantType type, long amount, String description, Instant expiresAt,
                              Long cents, BigDecimal centsPerCredit, List<Grant> live) {
    List<DebtSettlement.Payment> payments = DebtSettlement.settle(amount, live);
    long settled = payments.stream().mapToLong(DebtSettlement.Payment::amount).sum();
    String text = (description != null ? description : defaultDescription(type, amount))
        + (settled > 0 ? " (cleared " + settled + " credits of debt)" : "");
    Instant expiry = expiresAt != null ? expiresAt : type.expiresAtReset() ? user.nextQuotaReset() : null;
    return cents != null
        ? new GrantTerms(text, expiry, cents, centsPerCredit, payments)
        : new GrantTerms(text, expiry, CentsPerCredit.centsFor(amount, user.centsPerCredit()), user.centsPerCredit(),
            payments);
  }

  public long settled() {
    return payments.stream().mapToLong(DebtSettlement.Payment::amount).sum();
  }

  /** Journals the debt {@code grant} pays, both sides of each payment, under the grant's operationId. */
  public void journalSettlement(JournalBatch batch, Grant grant) {
    for (DebtSettlement.Payment p : payments) {
      batch.add(grant, -p.amount(), JournalKind.DEBT_SETTLEMENT, grant.operationId(),
          "Paid " + p.amount() + " credits of debt on grant " + p.debtor().operationId());
      batch.add(p.debtor(), p.amount(), JournalKind.DEBT_SETTLEMENT, grant.operationId(),
          "Debt of " + p.amount() + " credits paid by grant " + grant.operationId());
    }
  }

  private static String defaultDescription(GrantType type, long amount) {
    return switch (type) {
      case FREE -> "Free credits: " + amount;
      case REFERRAL -> "Referral credits: " + amount;
      case ROLLOVER -> "Rolled over credits: " + amount;
      case PURCHASE -> "Purchased credits: " + amount;
      case ADMIN -> "Admin grant: " + amount;
      case ORGANIZATION -> "Organization credits: " + amount;
    };
  }
}
