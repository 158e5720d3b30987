package io.creditledger.ledger;

import io.creditledger.outbox.OutboxStore;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;

/**
 * Takes credits back from a grant, inside a transaction holding its user's lock: what is removed is journalled
 * as {@code revoke} (never more than the grant still holds; spent credits are not clawed back), the principal
 * stays, and a closing revoke marks the description, takes the grant out of consumption and queues the void
 * of its Stripe mirror.
 */
public final class GrantRevoker {
  private final LedgerStore store;
  private final OutboxStore outbox;

  public GrantRevoker(LedgerStore store, OutboxStore outbox) {
    this.store = store;
    this.outbox = outbox;
  }

  /** The grant afterwards and how many credits this revoke removed. */
  public record Revoked(Grant grant, long credits) {
  }

  /**
   * @param upTo the most credits to remove ({@code Long.MAX_VALUE}: all that is left)
   * @param close whether the grant is done (a full revoke) rather than reduced (a partial refund)
   * @param operationId what the journal entry is filed under
   */
  public Future<Revoked> revoke(SqlConnection conn, Grant grant, long upTo, boolean close, String reason,
                                String operationId, Instant now) {
    long credits = Math.min(upTo, Math.max(grant.balance(), 0));
    JournalBatch batch = new JournalBatch();
    if (credits > 0) {
      batch.add(grant, -credits, "revoke", operationId, "Revoked " + credits + " credits: " + reason);
    }
    Future<Void> journal = store.apply(conn, grant.userId(), batch, now);
    if (!close) {
      return journal.map(done -> new Revoked(grant.withBalance(batch.balanceOf(grant)), credits));
    }
    String description = grant.description() + " [revoked: " + reason + "]";
    return Future.all(
            journal,
            store.closeGrant(conn, grant, "revoke", reason, description, now),
            grant.mirrored() ? outbox.enqueueVoid(conn, grant, now) : Future.succeededFuture())
        .map(done -> new Revoked(grant.closed(now, "revoke", reason, description, batch.balanceOf(grant)), credits));
  }
}
