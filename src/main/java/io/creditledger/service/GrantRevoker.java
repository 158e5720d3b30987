package io.creditledger.service;

import io.creditledger.domain.CloseReason;
import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.JournalBatch;
import io.creditledger.domain.JournalKind;
import io.creditledger.domain.Rollover;
import io.creditledger.domain.RolloverShares;
import io.creditledger.store.EventStore;
import io.creditledger.store.LedgerStore;
import io.creditledger.store.OutboxStore;
import io.creditledger.store.Stores;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Takes credits back from a grant (refunds, chargebacks, admin revokes), inside a transaction holding its user's
 * lock: what is removed is journalled as {@code revoke} (never more than remains; spent credits are not clawed
 * back), the principal stays, and a closing revoke marks the description and takes the grant out of consumption.
 *
 * <p>A grant whose credits rolled over is followed to where they went: the credits it still has in the rollover
 * (and in the rollovers that one moved into, see {@link RolloverShares}) are taken from the open grant at the end
 * of that chain, and the rollover remembers how many of each source's credits were taken back.
 *
 * <p>Stripe: a closing revoke voids the grant's mirror; a partial one voids it and creates a replacement worth
 * what is left, since a Stripe credit grant cannot be reduced.
 */
public final class GrantRevoker {
  private final LedgerStore store;
  private final OutboxStore outbox;
  private final EventStore events;
  private final String currency;

  public GrantRevoker(Stores stores, String currency) {
    this.store = stores.ledger();
    this.outbox = stores.outbox();
    this.events = stores.events();
    this.currency = currency;
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
    return announced(conn, revokeOnly(conn, grant, upTo, close, reason, operationId, now), close, now);
  }

  /** A revoke that removed credits or closed the grant raises {@code grant.revoked}, in the same transaction. */
  private Future<Revoked> announced(SqlConnection conn, Future<Revoked> revoke, boolean closed, Instant now) {
    return revoke.compose(r -> r.credits() == 0 && !closed ? Future.succeededFuture(r)
        : events.append(conn, List.of(LedgerEvents.grantRevoked(new GrantView.Revoked(GrantView.of(r.grant(), now),
            r.credits()))), now).map(r));
  }

  private Future<Revoked> revokeOnly(SqlConnection conn, Grant grant, long upTo, boolean close, String reason,
                                     String operationId, Instant now) {
    if (grant.closedBy() == CloseReason.ROLLOVER) {
      return revokeRolledOver(conn, grant, upTo, close, reason, operationId, now);
    }
    long credits = Math.min(upTo, Math.max(grant.balance(), 0));
    JournalBatch batch = new JournalBatch();
    if (credits > 0) {
      batch.add(grant, -credits, JournalKind.REVOKE, operationId, "Revoked " + credits + " credits: " + reason);
    }
    Grant reduced = grant.withBalance(batch.balanceOf(grant));
    if (!close) {
      return Future.all(store.apply(conn, batch, now),
              credits > 0 ? mirrorReduced(conn, reduced, operationId, now) : Future.succeededFuture())
          .map(done -> new Revoked(reduced, credits));
    }
    String description = grant.description() + " [revoked: " + reason + "]";
    return Future.all(
            store.apply(conn, batch, now),
            store.closeGrant(conn, grant, CloseReason.REVOKE, reason, description, now),
            grant.mirrored() ? outbox.enqueueVoid(conn, grant, now) : Future.succeededFuture())
        .map(done -> new Revoked(grant.closed(now, CloseReason.REVOKE, reason, description, reduced.balance()), credits));
  }

  /**
   * A grant whose Stripe credit grant was voided in Stripe itself (an imported one): revoked and closed here too,
   * its mirror recorded as voided, and nothing sent to Stripe.
   */
  public Future<Revoked> revokeVoidedInStripe(SqlConnection conn, Grant grant, String reason, String operationId,
                                              Instant now) {
    return announced(conn, voidedInStripe(conn, grant, reason, operationId, now), true, now);
  }

  private Future<Revoked> voidedInStripe(SqlConnection conn, Grant grant, String reason, String operationId,
                                         Instant now) {
    long credits = Math.max(grant.balance(), 0);
    JournalBatch batch = new JournalBatch();
    if (credits > 0) {
      batch.add(grant, -credits, JournalKind.REVOKE, operationId, "Revoked " + credits + " credits: " + reason);
    }
    String description = grant.description() + " [revoked: " + reason + "]";
    return Future.all(
            store.apply(conn, batch, now),
            store.closeGrant(conn, grant, CloseReason.REVOKE, reason, description, now),
            outbox.confirmVoid(conn, grant.grantId(), now))
        .map(done -> new Revoked(grant.closed(now, CloseReason.REVOKE, reason, description, batch.balanceOf(grant)), credits));
  }

  /** Takes back what the rolled-over grant still has, from the open grant its credits ended up in. */
  private Future<Revoked> revokeRolledOver(SqlConnection conn, Grant grant, long upTo, boolean close, String reason,
                                           String operationId, Instant now) {
    return store.rolloverChain(conn, grant.grantId()).compose(chain -> {
      if (chain.isEmpty()) {
        return Future.succeededFuture(0L);
      }
      LedgerStore.ChainLink last = chain.get(chain.size() - 1);
      return store.grantById(conn, last.rolloverGrantId()).map(Optional::orElseThrow).compose(end -> {
        long endRemaining = end.closedAt() == null ? end.balance() : 0;
        List<RolloverShares.Level> levels = new ArrayList<>();
        List<Long> links = new ArrayList<>();
        for (LedgerStore.ChainLink link : chain) {
          levels.add(link.level());
          links.add(link.via());
        }
        long credits = Math.min(upTo, RolloverShares.remaining(levels, endRemaining));
        if (credits == 0) {
          return Future.succeededFuture(0L);
        }
        JournalBatch batch = new JournalBatch();
        batch.add(end, -credits, JournalKind.REVOKE, operationId, "Revoked " + credits + " credits of grant "
            + grant.operationId() + ", which rolled over into this grant: " + reason);
        return Future.all(
                store.apply(conn, batch, now),
                store.addRevoked(conn, links, credits),
                mirrorReduced(conn, end.withBalance(batch.balanceOf(end)), operationId, now))
            .map(credits);
      });
    }).compose(credits -> {
      if (!close) {
        return Future.succeededFuture(new Revoked(grant, credits));
      }
      String description = grant.description() + " [revoked: " + reason + "]";
      return store.revokeRolledOver(conn, grant, reason, description)
          .map(done -> new Revoked(grant.closed(grant.closedAt(), CloseReason.REVOKE, reason, description, grant.balance()),
              credits));
    });
  }

  /**
   * A mirrored grant that lost credits but stays open: its Stripe grant is voided and replaced by one worth what
   * is left of its value, {@code floor(cents × (principal − revoked) / principal)}. The keys derive from the
   * revoke's operationId, and the replacement's create row waits behind the void (rows of a grant go in order).
   */
  private Future<Void> mirrorReduced(SqlConnection conn, Grant grant, String operationId, Instant now) {
    if (!grant.mirrored()) {
      return Future.succeededFuture();
    }
    return store.revokedOn(conn, grant.grantId()).compose(revoked -> outbox.enqueueReplacement(conn, grant,
        Rollover.worth(grant, Math.max(0, grant.principal() - revoked)), currency, operationId, now));
  }
}
