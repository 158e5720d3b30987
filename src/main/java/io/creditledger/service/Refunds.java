package io.creditledger.service;

import io.creditledger.domain.CloseReason;
import io.creditledger.domain.Grant;
import io.creditledger.store.LedgerStore;
import io.creditledger.store.Stores;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Refunds of purchases. A charge's refunds are cumulative: each {@code charge.refunded} says how much of the
 * charge is refunded so far, and the purchase loses that share of its credits,
 * {@code round(principal × refunded / amount)}, less what earlier refunds took, never more than remains (wherever
 * the credits rolled over to). A full refund closes the purchase. A refund that arrives before its purchase waits
 * and is applied in the transaction that grants the purchase.
 */
public final class Refunds {
  private final LedgerStore store;
  private final GrantRevoker revoker;

  public Refunds(Stores stores, GrantRevoker revoker) {
    this.store = stores.ledger();
    this.revoker = revoker;
  }

  /** Inside a transaction holding the purchase's user's lock; answers the webhook outcome. */
  public Future<String> apply(SqlConnection conn, Grant purchase, String chargeId, long amount, long refunded,
                              Instant now) {
    if (purchase.closedBy() == CloseReason.REVOKE) {
      return Future.succeededFuture("ignored_grant_closed");
    }
    boolean full = refunded >= amount;
    long target = full ? purchase.principal() : BigDecimal.valueOf(purchase.principal())
        .multiply(BigDecimal.valueOf(refunded))
        .divide(BigDecimal.valueOf(amount), 0, RoundingMode.HALF_UP)
        .longValueExact();
    return store.revokedSoFar(conn, purchase.grantId()).compose(soFar -> revoker.revoke(conn, purchase,
            Math.max(0, target - soFar), full, "refund " + chargeId, "refund/" + chargeId + "/" + refunded, now))
        .map(r -> (full ? "revoked_all:" : "revoked:") + r.credits());
  }

  /** A purchase was just granted: the refunds that arrived before it (taken from the waiting list) apply now. */
  public Future<Void> applyPending(SqlConnection conn, Grant purchase, List<LedgerStore.PendingRefund> pending,
                                   Instant now) {
    Future<?> chain = Future.succeededFuture();
    for (LedgerStore.PendingRefund refund : pending) {
      chain = chain.compose(v -> store.grantById(conn, purchase.grantId()).map(Optional::orElseThrow).compose(current ->
          apply(conn, current, refund.chargeId(), refund.amount(), refund.refunded(), now)));
    }
    return chain.mapEmpty();
  }
}
