package io.creditledger.ledger;

import io.creditledger.api.LedgerException;
import io.creditledger.api.Reply;
import io.creditledger.api.User;
import io.creditledger.config.LedgerConfig;
import io.creditledger.money.CentsPerCredit;
import io.creditledger.outbox.OutboxStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;
import java.util.List;

/**
 * Writes a grant inside a transaction that holds the user's lock: the grant and its journal entry, the debt it
 * settles (both sides journalled), its operation record, and, for a user with a Stripe customer, the outbox row
 * that mirrors it to Stripe. Every path that grants credits goes through here:
 * the grants API, sign-up, referrals, resets and Stripe purchases.
 */
public final class GrantWriter {
  static final String KIND = "grant";

  private final LedgerConfig config;
  private final LedgerStore store;
  private final OutboxStore outbox;

  public GrantWriter(LedgerConfig config, LedgerStore store, OutboxStore outbox) {
    this.config = config;
    this.store = store;
    this.outbox = outbox;
  }

  /**
   * What to grant. {@code description} and {@code expiresAt} may be null: the description then says what the
   * grant is, and free and referral grants expire at the user's next reset while the others never expire.
   */
  public record Spec(String operationId, GrantType type, long amount, String description, Instant expiresAt,
                     String paymentIntentId) {
    public Spec(String operationId, GrantType type, long amount, String description, Instant expiresAt) {
      this(operationId, type, amount, description, expiresAt, null);
    }

    /** The request as compared for idempotency: same text, same request. */
    String canonical(String userId) {
      return new JsonObject().put("userId", userId).put("type", type.wire()).put("amount", amount)
          .put("description", description).put("expiresAt", expiresAt == null ? null : expiresAt.toString())
          .encode();
    }
  }

  public record Written(Grant grant, long debtSettled, JsonObject json) {
  }

  /**
   * Locks the user and writes the grant, unless its operationId is taken: then the stored answer is replayed
   * (same request) or the request is refused (409). Runs inside the caller's transaction.
   */
  public Future<Reply> writeOnce(SqlConnection conn, String userId, Spec spec, Instant now) {
    return store.lockUserWithOperation(conn, userId, spec.operationId()).compose(locked -> {
      if (locked == null) {
        throw LedgerException.userNotFound(userId);
      }
      if (locked.operation() != null) {
        return Future.succeededFuture(Idempotency.replayOrConflict(locked.operation(), spec.operationId(), KIND,
            spec.canonical(userId)));
      }
      return write(conn, locked.user(), spec, now).map(w -> Reply.created(w.json()));
    });
  }

  public Future<Written> write(SqlConnection conn, User user, Spec spec, Instant now) {
    return write(conn, user, spec, "grant", now);
  }

  /** @param openingEntry the kind of the grant's first journal entry: grant, or rollover_in for a rollover */
  public Future<Written> write(SqlConnection conn, User user, Spec spec, String openingEntry, Instant now) {
    return store.liveGrants(conn, user.userId(), now).compose(live -> {
      List<DebtSettlement.Payment> payments = DebtSettlement.settle(spec.amount(), live);
      long settled = payments.stream().mapToLong(DebtSettlement.Payment::amount).sum();
      String description = (spec.description() != null ? spec.description() : defaultDescription(spec))
          + (settled > 0 ? " (cleared " + settled + " credits of debt)" : "");
      Instant expiresAt = spec.expiresAt() != null ? spec.expiresAt()
          : spec.type().expiresAtReset() ? user.nextQuotaReset() : null;
      LedgerStore.NewGrant row = new LedgerStore.NewGrant(user.userId(), spec.operationId(), spec.type(),
          config.priorityOf(spec.type()), spec.amount(), CentsPerCredit.centsFor(spec.amount(), user.centsPerCredit()),
          user.centsPerCredit(), expiresAt, description, user.stripeCustomerId(), spec.paymentIntentId());
      return store.insertGrant(conn, row, openingEntry, now).compose(grant -> {
        JournalBatch batch = new JournalBatch();
        for (DebtSettlement.Payment p : payments) {
          batch.add(grant, -p.amount(), "debt_settlement", spec.operationId(),
              "Paid " + p.amount() + " credits of debt on grant " + p.debtor().operationId());
          batch.add(p.debtor(), p.amount(), "debt_settlement", spec.operationId(),
              "Debt of " + p.amount() + " credits paid by grant " + spec.operationId());
        }
        Grant after = grant.withBalance(batch.balanceOf(grant));
        JsonObject json = GrantJson.of(after, now).put("debtSettled", settled);
        Future<Void> journal = store.apply(conn, user.userId(), batch, now);
        Future<Void> operation = store.insertOperation(conn, spec.operationId(), user.userId(), KIND,
            spec.canonical(user.userId()), 201, json, now);
        Future<Void> mirror = grant.mirrored()
            ? outbox.enqueueCreate(conn, after, config.stripe().currency(), now) : Future.succeededFuture();
        return Future.all(journal, operation, mirror).map(done -> new Written(after, settled, json));
      });
    });
  }

  private static String defaultDescription(Spec spec) {
    return switch (spec.type()) {
      case FREE -> "Free credits: " + spec.amount();
      case REFERRAL -> "Referral credits: " + spec.amount();
      case ROLLOVER -> "Rolled over credits: " + spec.amount();
      case PURCHASE -> "Purchased credits: " + spec.amount();
      case ADMIN -> "Admin grant: " + spec.amount();
    };
  }
}
