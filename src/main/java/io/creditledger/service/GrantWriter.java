package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantTerms;
import io.creditledger.domain.CycleGrants;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.GrantValue;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.JournalBatch;
import io.creditledger.domain.JournalKind;
import io.creditledger.domain.OperationKind;
import io.creditledger.domain.User;
import io.creditledger.store.EventStore;
import io.creditledger.store.LedgerStore;
import io.creditledger.store.OutboxStore;
import io.creditledger.store.Stores;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Writes a grant inside a transaction that holds the user's lock: the grant and its journal entry, the debt it
 * settles (both sides journalled), its operation record, and, for a user with a Stripe customer, the outbox row
 * that mirrors it to Stripe. Every path that grants credits goes through here:
 * the grants API, sign-up, referrals, resets and Stripe purchases ({@link GrantOnce} for the requests that carry
 * their own operationId).
 */
public final class GrantWriter {

  private final LedgerConfig config;
  private final LedgerStore store;
  private final OutboxStore outbox;
  private final EventStore events;
  private final Refunds refunds;

  public GrantWriter(LedgerConfig config, Stores stores, Refunds refunds) {
    this.config = config;
    this.store = stores.ledger();
    this.outbox = stores.outbox();
    this.events = stores.events();
    this.refunds = refunds;
  }

  /**
   * What to grant. {@code description} and {@code expiresAt} may be null: the description then says what the
   * grant is, and free and referral grants expire at the user's next reset while the others never expire.
   * {@code value} may be null: the grant is then worth its credits at the user's price. {@code stripeGrantId} is
   * set for a grant imported from Stripe, whose mirror exists already.
   */
  public record Spec(String operationId, GrantType type, long amount, String description, Instant expiresAt,
                     String paymentIntentId, GrantValue value, String stripeGrantId) {
    public Spec(String operationId, GrantType type, long amount, String description, Instant expiresAt) {
      this(operationId, type, amount, description, expiresAt, null, null, null);
    }

    public Spec(String operationId, GrantType type, long amount, String description, Instant expiresAt,
                String paymentIntentId) {
      this(operationId, type, amount, description, expiresAt, paymentIntentId, null, null);
    }

    /** The request as compared for idempotency: same text, same request. */
    String canonical(String userId) {
      return new JsonObject().put("userId", userId).put("type", type.wire()).put("amount", amount)
          .put("description", description).put("expiresAt", expiresAt == null ? null : expiresAt.toString())
          .encode();
    }
  }

  /** The grant as written, and as answered. */
  public record Written(Grant grant, GrantView.Created answer) {
  }

  /**
   * A new account's first cycle's free grant ({@link LedgerConfig#freeGrantCreditsOf}; none when 0), in the
   * transaction that creates the account.
   */
  public Future<Void> firstFreeGrant(SqlConnection conn, User account, Instant now) {
    long credits = config.freeGrantCreditsOf(account.userId());
    if (credits == 0) {
      return Future.succeededFuture();
    }
    Spec spec = new Spec(CycleGrants.free(account.userId(), account.nextQuotaReset()), GrantType.FREE, credits, null,
        null);
    return write(conn, account, spec, now).mapEmpty();
  }

  public Future<Written> write(SqlConnection conn, User user, Spec spec, Instant now) {
    return write(conn, user, spec, JournalKind.GRANT, now);
  }

  /** @param openingEntry the kind of the grant's first journal entry: grant, or rollover_in for a rollover */
  public Future<Written> write(SqlConnection conn, User user, Spec spec, JournalKind openingEntry, Instant now) {
    return store.liveGrants(conn, user.userId(), now).compose(live -> {
      GrantValue value = spec.value();
      GrantTerms terms = GrantTerms.of(user, spec.type(), spec.amount(), spec.description(), spec.expiresAt(),
          value == null ? null : value.cents(), value == null ? null : value.centsPerCredit(), live);
      LedgerStore.NewGrant row = new LedgerStore.NewGrant(user.userId(), spec.operationId(), spec.type(),
          config.priorityOf(spec.type()), spec.amount(), terms.cents(), terms.centsPerCredit(), terms.expiresAt(),
          terms.description(), user.stripeCustomerId(), spec.paymentIntentId(), spec.stripeGrantId());
      return store.insertGrant(conn, row, openingEntry, now).compose(grant -> {
        JournalBatch batch = new JournalBatch();
        terms.journalSettlement(batch, grant);
        Grant after = grant.withBalance(batch.balanceOf(grant));
        GrantView.Created answer = new GrantView.Created(GrantView.of(after, now), terms.settled());
        Future<Void> written = store.writeDecided(conn, List.of(new LedgerStore.NewOperation(spec.operationId(),
            user.userId(), OperationKind.GRANT, spec.canonical(user.userId()), 201, Json.created(answer))), batch,
            Map.of(), now);
        Future<Void> mirror = grant.mirrored() && spec.stripeGrantId() == null
            ? outbox.enqueueCreate(conn, after, config.stripe().currency(), now) : Future.succeededFuture();
        Future<List<LedgerStore.PendingRefund>> waiting = spec.type() == GrantType.PURCHASE
            ? store.takePendingRefunds(conn, spec.paymentIntentId(), spec.operationId())
            : Future.succeededFuture(List.of());
        Future<Void> announced = events.append(conn, List.of(LedgerEvents.grantCreated(answer)), now);
        return Future.all(List.of(written, mirror, waiting, announced))
            .compose(done -> refunds.applyPending(conn, after, waiting.result(), now))
            .map(done -> new Written(after, answer));
      });
    });
  }
}
