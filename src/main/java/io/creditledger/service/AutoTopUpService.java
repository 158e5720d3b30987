package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.db.Transactions;
import io.creditledger.domain.Accounts;
import io.creditledger.domain.Answer;
import io.creditledger.domain.AutoTopUp;
import io.creditledger.domain.Command;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.User;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.store.AutoTopUpStore;
import io.creditledger.store.EventStore;
import io.creditledger.store.Stores;
import io.creditledger.store.UserStore;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Auto top-up: the user's settings, and how a top-up's payment ends. The write batch starts top-ups (it holds the
 * balances); the Stripe relay charges the card and reports here; Stripe's webhooks may report the same payment
 * first. Whichever report comes first settles the top-up in flight, and the purchase is granted once by its
 * operationId either way.
 */
public final class AutoTopUpService {
  private final Pool pool;
  private final LedgerConfig config;
  private final Transactions transactions;
  private final AutoTopUpStore store;
  private final UserStore users;
  private final EventStore events;
  private final UserLocks locks;
  private final GrantOnce grantOnce;

  public AutoTopUpService(Pool pool, LedgerConfig config, Transactions transactions, Stores stores, UserLocks locks,
                          GrantOnce grantOnce) {
    this.pool = pool;
    this.config = config;
    this.transactions = transactions;
    this.store = stores.autoTopUps();
    this.users = stores.users();
    this.events = stores.events();
    this.locks = locks;
    this.grantOnce = grantOnce;
  }

  /** Saves the settings under the account's lock; turning it on needs a Stripe customer to charge. */
  public Future<Answer<AutoTopUp>> put(Command.PutAutoTopUp c) {
    Instant now = Now.of(config.clock());
    return transactions.run(conn -> locks.lock(conn, c.userId(), now).compose(user -> {
      if (c.enabled() && user.stripeCustomerId() == null) {
        throw new LedgerException(ErrorCode.STRIPE_CUSTOMER_REQUIRED,
            (Accounts.isOrg(c.userId()) ? "Org \"" + Accounts.orgId(c.userId()) : "User \"" + c.userId())
                + "\" has no stripeCustomerId to charge");
      }
      return store.put(conn, new AutoTopUp(c.userId(), c.enabled(), c.threshold(), c.amount(), c.paymentMethodId(),
          null, 0, null, null, null), now);
    })).map(Answer::ok);
  }

  /** The settings; a user who never set any has auto top-up off. */
  public Future<Answer<AutoTopUp>> get(Command.GetAutoTopUp c) {
    Future<Optional<AutoTopUp>> settings = store.get(pool, c.userId());
    Future<Optional<User>> user = users.find(pool, c.userId());
    return Future.all(settings, user).map(both -> {
      if (user.result().isEmpty()) {
        throw Accounts.notFound(c.userId());
      }
      return Answer.ok(settings.result()
          .orElse(new AutoTopUp(c.userId(), false, 0, 0, null, null, 0, null, null, null)));
    });
  }

  /** The top-up's PaymentIntent succeeded ({@code paymentIntentId}): the purchase is granted and the top-up settled. */
  public Future<Void> paid(String userId, String operationId, long credits, long cents, String paymentIntentId) {
    Instant now = Now.of(config.clock());
    GrantWriter.Spec spec = new GrantWriter.Spec(operationId, GrantType.PURCHASE, credits,
        StripeWebhookService.PURCHASE_DESCRIPTION, null, paymentIntentId);
    return transactions.run(conn -> grantOnce.write(conn, userId, spec, now)
        .compose(granted -> settled(conn, userId, operationId, credits, cents, paymentIntentId, now)));
  }

  /**
   * In a transaction that granted the top-up's purchase (the relay's, or a {@code payment_intent.succeeded}
   * webhook's): the top-up in flight is settled and {@code auto_top_up.succeeded} raised, once.
   */
  Future<Void> settled(SqlConnection conn, String userId, String operationId, long credits, long cents,
                       String paymentIntentId, Instant now) {
    return store.succeeded(conn, userId, operationId, now).compose(settledNow -> !settledNow
        ? Future.succeededFuture()
        : events.append(conn, List.of(LedgerEvents.topUpSucceeded(userId, operationId, credits, cents,
            paymentIntentId)), now));
  }

  /** The top-up's payment failed for good: auto top-up goes off with the reason, and auto_top_up.failed is raised. */
  public Future<Void> failed(String userId, String operationId, long credits, String reason) {
    Instant now = Now.of(config.clock());
    return transactions.run(conn -> locks.lock(conn, userId, now)
        .compose(user -> failedIn(conn, userId, operationId, credits, reason, now)));
  }

  /** {@link #failed} inside the caller's transaction, which holds the user's lock. */
  Future<Void> failedIn(SqlConnection conn, String userId, String operationId, long credits, String reason,
                        Instant now) {
    return store.failed(conn, userId, operationId, reason, now).compose(failedNow -> !failedNow
        ? Future.succeededFuture()
        : events.append(conn, List.of(LedgerEvents.topUpFailed(userId, operationId, credits, reason)), now));
  }
}
