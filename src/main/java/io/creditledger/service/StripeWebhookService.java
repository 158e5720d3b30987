package io.creditledger.service;

import com.stripe.exception.SignatureVerificationException;
import com.stripe.net.Webhook;
import io.creditledger.config.LedgerConfig;
import io.creditledger.db.SyncFailures;
import io.creditledger.db.Transactions;
import io.creditledger.domain.Answer;
import io.creditledger.domain.AutoTopUp;
import io.creditledger.domain.Command;
import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.GrantValue;
import io.creditledger.domain.User;
import io.creditledger.domain.WebhookOutcome;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.money.CentsPerCredit;
import io.creditledger.store.LedgerStore;
import io.creditledger.store.OutboxStore;
import io.creditledger.store.Stores;
import io.creditledger.store.StripeEvents;
import io.creditledger.store.UserStore;
import io.creditledger.stripe.CreditGrantPayload;
import io.creditledger.stripe.OutboxRow;
import io.creditledger.stripe.StripeGateway;
import io.creditledger.time.Now;
import io.creditledger.wire.Input;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Optional;

/**
 * Stripe's webhooks. The signature is checked on the raw body ({@code Webhook.constructEvent}, 300 s
 * tolerance); each event id is handled once, in the same transaction as its effect, and the answer is sent
 * after the commit. Purchases grant credits, refunds revoke the refunded share of the purchase's grant,
 * credit-grant events confirm the mirror. An event the ledger cannot apply (unknown user, an operationId
 * already used for something else) is acknowledged and kept in {@code sync_failure} (provider stripe), since
 * Stripe's retries could not fix it.
 */
public final class StripeWebhookService {
  private static final Logger log = LoggerFactory.getLogger(StripeWebhookService.class);
  static final long TOLERANCE_SECONDS = 300;
  static final String PURCHASE_DESCRIPTION = "Stripe purchase";
  /** The operationId of a grant imported from a Stripe credit grant: the prefix and the Stripe id. */
  public static final String IMPORT_PREFIX = "stripe/";

  private final Vertx vertx;
  private final Pool pool;
  private final LedgerConfig config;
  private final Transactions transactions;
  private final LedgerStore store;
  private final GrantOnce grantOnce;
  private final GrantWriter grants;
  private final GrantRevoker revoker;
  private final Refunds refunds;
  private final UserLocks locks;
  private final OutboxStore outbox;
  private final StripeGateway gateway;
  private final AutoTopUpService topUps;
  private final UserStore users;
  private final StripeEvents events;
  private final SyncFailures failures;

  /** @param gateway null without a Stripe API key (refunds then resolve only through local grants) */
  public StripeWebhookService(Vertx vertx, Pool pool, LedgerConfig config, Transactions transactions,
                              Stores stores, GrantOnce grantOnce, GrantWriter grants, GrantRevoker revoker,
                              Refunds refunds, UserLocks locks, StripeGateway gateway, AutoTopUpService topUps) {
    this.vertx = vertx;
    this.pool = pool;
    this.config = config;
    this.transactions = transactions;
    this.store = stores.ledger();
    this.outbox = stores.outbox();
    this.users = stores.users();
    this.events = stores.stripeEvents();
    this.failures = stores.syncFailures();
    this.grantOnce = grantOnce;
    this.grants = grants;
    this.revoker = revoker;
    this.refunds = refunds;
    this.locks = locks;
    this.gateway = gateway;
    this.topUps = topUps;
  }

  /** The raw body and the Stripe-Signature header. */
  public Future<Answer<WebhookOutcome>> handle(Command.StripeWebhook c) {
    String secret = config.stripe().webhookSecret();
    if (secret == null) {
      throw new LedgerException(ErrorCode.WEBHOOK_NOT_CONFIGURED, "STRIPE_WEBHOOK_SECRET is not set");
    }
    // the signature is checked first: nothing about an unsigned request deserves a more specific answer
    String payload = c.payload();
    verify(payload, c.signature(), secret);
    JsonObject event;
    try {
      event = new JsonObject(payload);
    } catch (DecodeException | ClassCastException e) {
      throw new LedgerException(ErrorCode.INVALID_PAYLOAD, "The event is not a JSON object");
    }
    String eventId = event.getValue("id") instanceof String s ? s : null;
    String type = event.getValue("type") instanceof String s ? s : null;
    JsonObject data = event.getValue("data") instanceof JsonObject d ? d : null;
    JsonObject object = data != null && data.getValue("object") instanceof JsonObject o ? o : null;
    if (eventId == null || type == null || object == null) {
      throw new LedgerException(ErrorCode.INVALID_PAYLOAD, "The event needs id, type and data.object");
    }
    Instant now = Now.of(config.clock());
    Future<String> refundTarget = "charge.refunded".equals(type) ? refundedGrantOperation(object)
        : Future.succeededFuture(null);
    return refundTarget.compose(refundOperation -> transactions.run(
        new Transactions.Failure("stripe-event/" + eventId, null, new JsonObject().put("type", type)),
        conn -> events.recordFirst(conn, eventId, type, now).compose(first -> first
            ? apply(conn, eventId, type, object, refundOperation, now)
            : Future.succeededFuture("duplicate_event"))))
        .map(outcome -> Answer.ok(new WebhookOutcome(eventId, type, outcome)));
  }

  private void verify(String payload, String signature, String secret) {
    if (signature == null || signature.length() > 4096) {
      throw new LedgerException(ErrorCode.INVALID_SIGNATURE, "The Stripe-Signature header is missing or malformed");
    }
    try {
      Webhook.constructEvent(payload, signature, secret, TOLERANCE_SECONDS, config.clock());
    } catch (SignatureVerificationException e) {
      boolean stale = e.getMessage() != null && e.getMessage().contains("tolerance");
      throw new LedgerException(stale ? ErrorCode.STALE_TIMESTAMP : ErrorCode.INVALID_SIGNATURE, stale
          ? "The signature's timestamp is more than " + TOLERANCE_SECONDS + " s away from now"
          : "The Stripe-Signature header does not match the body");
    } catch (RuntimeException e) {
      throw new LedgerException(ErrorCode.INVALID_PAYLOAD, "The event could not be read as a Stripe event");
    }
  }

  private Future<String> apply(SqlConnection conn, String eventId, String type, JsonObject object,
                               String refundOperation, Instant now) {
    return switch (type) {
      case "checkout.session.completed" -> "paid".equals(object.getValue("payment_status"))
          ? purchase(conn, eventId, object, stringOrNull(object, "payment_intent"), now)
          : Future.succeededFuture("ignored_unpaid");
      case "checkout.session.async_payment_succeeded" ->
          purchase(conn, eventId, object, stringOrNull(object, "payment_intent"), now);
      case "payment_intent.succeeded" -> purchase(conn, eventId, object, stringOrNull(object, "id"), now)
          .compose(outcome -> topUpPaid(conn, object, outcome, now));
      case "payment_intent.payment_failed" -> topUpFailed(conn, object, now);
      case "charge.refunded" -> refund(conn, eventId, object, refundOperation, now);
      case "billing.credit_grant.created", "billing.credit_grant.updated" -> confirm(conn, eventId, object, now);
      default -> Future.succeededFuture("ignored");
    };
  }

  // ---- purchases

  private Future<String> purchase(SqlConnection conn, String eventId, JsonObject object, String paymentIntentId,
                                  Instant now) {
    JsonObject metadata = object.getValue("metadata") instanceof JsonObject m ? m : new JsonObject();
    String userId = stringOrNull(metadata, "userId");
    String credits = stringOrNull(metadata, "credits");
    String operationId = stringOrNull(metadata, "operationId");
    if (userId == null && credits == null && operationId == null) {
      return Future.succeededFuture("ignored_no_ledger_metadata");
    }
    long amount;
    try {
      if (userId == null || operationId == null || credits == null
          || !Input.ACCOUNT.matcher(userId).matches() || !(Input.ID.matcher(operationId).matches()
              || Input.TOP_UP_ID.matcher(operationId).matches() && operationId.startsWith("topup/" + userId + "/"))) {
        throw new NumberFormatException();
      }
      amount = Long.parseLong(credits.trim());
      if (amount < 1 || amount > config.maxCreditsPerOperation()) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      return failure(conn, eventId, operationId, userId, object, "metadata needs userId, operationId and credits "
          + "(1-" + config.maxCreditsPerOperation() + "), got " + metadata.encode(), now);
    }
    GrantWriter.Spec spec = new GrantWriter.Spec(operationId, GrantType.PURCHASE, amount, PURCHASE_DESCRIPTION,
        null, paymentIntentId);
    return grantOnce.write(conn, userId, spec, now)
        .map(answer -> answer.replayed() ? "replayed" : "granted")
        .recover(e -> e instanceof LedgerException le
            ? failure(conn, eventId, operationId, userId, object, le.code() + ": " + le.getMessage(), now)
            : Future.failedFuture(e));
  }

  // ---- auto top-ups

  /** A top-up's PaymentIntent succeeded: once its purchase is granted (here or by the relay), it is settled. */
  private Future<String> topUpPaid(SqlConnection conn, JsonObject intent, String outcome, Instant now) {
    JsonObject metadata = intent.getValue("metadata") instanceof JsonObject m ? m : new JsonObject();
    String operationId = stringOrNull(metadata, "operationId");
    if (!AutoTopUp.isTopUp(operationId) || !("granted".equals(outcome) || "replayed".equals(outcome))) {
      return Future.succeededFuture(outcome);
    }
    return topUps.settled(conn, stringOrNull(metadata, "userId"), operationId,
            Long.parseLong(stringOrNull(metadata, "credits")), intent.getLong("amount", 0L), stringOrNull(intent, "id"),
            now)
        .map(outcome);
  }

  /** A top-up's payment failed (after the relay had it processing, or on a later attempt): auto top-up goes off. */
  private Future<String> topUpFailed(SqlConnection conn, JsonObject intent, Instant now) {
    JsonObject metadata = intent.getValue("metadata") instanceof JsonObject m ? m : new JsonObject();
    String operationId = stringOrNull(metadata, "operationId");
    String userId = stringOrNull(metadata, "userId");
    String credits = stringOrNull(metadata, "credits");
    if (!AutoTopUp.isTopUp(operationId) || userId == null || credits == null
        || !Input.ACCOUNT.matcher(userId).matches()) {
      return Future.succeededFuture("ignored");
    }
    JsonObject error = intent.getValue("last_payment_error") instanceof JsonObject e ? e : new JsonObject();
    String reason = "payment_intent.payment_failed: " + (error.getString("code") == null ? "" : error.getString("code")
        + ": ") + (error.getString("message") == null ? "the payment failed" : error.getString("message"));
    long amount;
    try {
      amount = Long.parseLong(credits.trim());
    } catch (NumberFormatException e) {
      return Future.succeededFuture("ignored");
    }
    return locks.lock(conn, userId, now)
        .compose(user -> topUps.failedIn(conn, userId, operationId, amount, reason, now))
        .map("auto_top_up_failed")
        .recover(e -> e instanceof LedgerException ? Future.succeededFuture("ignored") : Future.failedFuture(e));
  }

  // ---- refunds

  /** The operationId of the purchase grant a charge paid for: by its PaymentIntent, else its metadata at Stripe. */
  private Future<String> refundedGrantOperation(JsonObject charge) {
    String paymentIntentId = stringOrNull(charge, "payment_intent");
    if (paymentIntentId == null) {
      return Future.succeededFuture(null);
    }
    return store.grantByPaymentIntent(pool, paymentIntentId).compose(grant -> {
      if (grant.isPresent()) {
        return Future.succeededFuture(grant.get().operationId());
      }
      if (gateway == null) {
        return Future.succeededFuture(null);
      }
      return vertx.executeBlocking(() -> gateway.paymentIntentMetadata(paymentIntentId).get("operationId"), false)
          .otherwise(e -> {
            log.warn("Reading PaymentIntent {} from Stripe failed: {}", paymentIntentId, e.toString());
            return null;
          });
    });
  }

  private Future<String> refund(SqlConnection conn, String eventId, JsonObject charge, String operationId,
                                Instant now) {
    String chargeId = stringOrNull(charge, "id");
    String paymentIntentId = stringOrNull(charge, "payment_intent");
    Long amount = longOrNull(charge, "amount");
    Long refunded = longOrNull(charge, "amount_refunded");
    if (chargeId == null || amount == null || refunded == null || amount <= 0 || refunded < 0) {
      return failure(conn, eventId, operationId, null, charge, "the charge has no usable id/amount/amount_refunded", now);
    }
    Future<Optional<Grant>> purchase = operationId == null ? Future.succeededFuture(Optional.empty())
        : store.grantByOperation(conn, operationId);
    return purchase.compose(found -> {
      if (found.isEmpty()) {
        if (paymentIntentId == null) {
          return failure(conn, eventId, operationId, null, charge, "the charge names no PaymentIntent", now);
        }
        // webhooks arrive out of order: the refund waits for its purchase and is applied when it is granted
        return store.recordPendingRefund(conn, chargeId, paymentIntentId, operationId, amount, refunded, eventId, now)
            .map("refund_pending");
      }
      return locks.lock(conn, found.get().userId(), now)
          .compose(user -> store.grantByOperation(conn, found.get().operationId()))
          .compose(grant -> refunds.apply(conn, grant.orElseThrow(), chargeId, amount, refunded, now));
    });
  }

  // ---- mirror confirmation

  private Future<String> confirm(SqlConnection conn, String eventId, JsonObject creditGrant, Instant now) {
    String stripeId = stringOrNull(creditGrant, "id");
    JsonObject metadata = creditGrant.getValue("metadata") instanceof JsonObject m ? m : new JsonObject();
    String operationId = stringOrNull(metadata, "operationId");
    if (stripeId == null) {
      return Future.succeededFuture("ignored_not_ours");
    }
    if (operationId == null) {
      return imported(conn, eventId, stripeId, creditGrant, now);
    }
    return store.grantByOperation(conn, operationId).compose(found -> {
      if (found.isEmpty()) {
        return Future.succeededFuture("ignored_not_ours");
      }
      Grant grant = found.get();
      String key = stringOrNull(metadata, "mirrorKey");
      return outbox.findByKey(conn, key != null ? key : CreditGrantPayload.createKey(grant)).compose(kept -> {
        OutboxRow row = kept.orElse(null); // delivered rows are pruned after a while
        boolean replacement = row != null ? row.replacement() : key != null && !key.equals(CreditGrantPayload.createKey(grant));
        String known = row != null ? row.stripeObjectId() : replacement ? null : grant.stripeGrantId();
        if (known != null && !known.equals(stripeId)) {
          return failure(conn, eventId, operationId, grant.userId(), creditGrant, "Stripe holds a second credit "
              + "grant " + stripeId + " for grant " + operationId + " (mirrored as " + known + ")", now);
        }
        Future<Void> created = row == null && replacement ? Future.succeededFuture()
            : outbox.confirmCreate(conn, grant.grantId(), row == null ? null : row.outboxId(), stripeId, replacement, now);
        // a voided mirror that was replaced since is history: only the current one's void counts
        Future<Void> voided = creditGrant.getValue("voided_at") != null
            && (grant.stripeGrantId() == null || stripeId.equals(grant.stripeGrantId()))
            ? outbox.confirmVoid(conn, grant.grantId(), now) : Future.succeededFuture();
        return Future.all(created, voided).map("confirmed");
      });
    });
  }

  /**
   * A credit grant made in Stripe itself (no ledger metadata) for a customer who is one of our users becomes a
   * local grant, once per Stripe grant ({@code stripe/<id>}): {@code paid} as a purchase, {@code promotional} as an
   * admin grant, worth its cents at the user's price. Later events keep its expiry in step, and a void revokes it.
   */
  private Future<String> imported(SqlConnection conn, String eventId, String stripeId, JsonObject creditGrant,
                                  Instant now) {
    String customer = stringOrNull(creditGrant, "customer");
    if (customer == null) {
      return Future.succeededFuture("ignored_not_ours");
    }
    String operationId = IMPORT_PREFIX + stripeId;
    return users.findByStripeCustomer(conn, customer).compose(owner -> {
      if (owner.isEmpty()) {
        return Future.succeededFuture("ignored_not_ours");
      }
      return locks.lock(conn, owner.get().userId(), now).compose(user -> store.grantByOperation(conn, operationId)
          .compose(existing -> existing.isPresent() ? follow(conn, existing.get(), creditGrant, now)
              : importNew(conn, eventId, user, operationId, stripeId, creditGrant, now)));
    });
  }

  private Future<String> importNew(SqlConnection conn, String eventId, User user, String operationId, String stripeId,
                                   JsonObject creditGrant, Instant now) {
    JsonObject amount = creditGrant.getValue("amount") instanceof JsonObject a ? a : new JsonObject();
    JsonObject monetary = amount.getValue("monetary") instanceof JsonObject m ? m : new JsonObject();
    Long cents = longOrNull(monetary, "value");
    if (cents == null || cents <= 0) {
      return failure(conn, eventId, operationId, user.userId(), creditGrant, "the credit grant has no monetary amount", now);
    }
    if (creditGrant.getValue("voided_at") != null) {
      return Future.succeededFuture("ignored_voided");
    }
    long credits = CentsPerCredit.creditsFor(cents, user.centsPerCredit());
    if (credits < 1 || credits > config.maxCreditsPerOperation()) {
      return failure(conn, eventId, operationId, user.userId(), creditGrant, "the credit grant of " + cents
          + " cents is " + credits + " credits at the user's price", now);
    }
    Long expires = longOrNull(creditGrant, "expires_at");
    GrantType type = "paid".equals(creditGrant.getValue("category")) ? GrantType.PURCHASE : GrantType.ADMIN;
    String name = stringOrNull(creditGrant, "name");
    String description = "Imported from Stripe credit grant " + stripeId + (name == null ? "" : ": " + name);
    GrantWriter.Spec spec = new GrantWriter.Spec(operationId, type, credits,
        description.length() > 500 ? description.substring(0, 500) : description,
        expires == null ? null : Instant.ofEpochSecond(expires), null,
        new GrantValue(cents, user.centsPerCredit()), stripeId);
    return grants.write(conn, user, spec, now).map("imported");
  }

  /** An imported grant follows its Stripe grant: the expiry, and a void. */
  private Future<String> follow(SqlConnection conn, Grant grant, JsonObject creditGrant, Instant now) {
    if (grant.closedAt() != null) {
      return Future.succeededFuture("ignored_grant_closed");
    }
    if (creditGrant.getValue("voided_at") != null) {
      return revoker.revokeVoidedInStripe(conn, grant, "voided in Stripe", "stripe-void/" + grant.operationId(), now)
          .map(r -> "revoked_all:" + r.credits());
    }
    Long expires = longOrNull(creditGrant, "expires_at");
    Instant expiresAt = expires == null ? null : Instant.ofEpochSecond(expires);
    if (java.util.Objects.equals(expiresAt, grant.expiresAt())) {
      return Future.succeededFuture("unchanged");
    }
    return store.setExpiry(conn, grant.grantId(), expiresAt).map("expiry_updated");
  }

  private Future<String> failure(SqlConnection conn, String eventId, String operationId, String userId,
                                 JsonObject object, String error, Instant now) {
    log.warn("Stripe event {} cannot be applied: {}", eventId, error);
    return failures.record(conn, SyncFailures.STRIPE, operationId, userId,
            new JsonObject().put("eventId", eventId).put("object", object), error, 1, now)
        .map("failed_recorded");
  }

  private static String stringOrNull(JsonObject j, String key) {
    return j.getValue(key) instanceof String s && !s.isBlank() ? s : null;
  }

  private static Long longOrNull(JsonObject j, String key) {
    return j.getValue(key) instanceof Number n ? n.longValue() : null;
  }
}
