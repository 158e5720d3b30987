package io.creditledger.stripe;

import com.stripe.exception.SignatureVerificationException;
import com.stripe.net.Webhook;
import io.creditledger.api.Input;
import io.creditledger.api.LedgerException;
import io.creditledger.api.Reply;
import io.creditledger.config.LedgerConfig;
import io.creditledger.db.SyncFailures;
import io.creditledger.db.Transactions;
import io.creditledger.ledger.Grant;
import io.creditledger.ledger.GrantRevoker;
import io.creditledger.ledger.GrantType;
import io.creditledger.ledger.GrantWriter;
import io.creditledger.ledger.LedgerStore;
import io.creditledger.outbox.OutboxStore;
import io.creditledger.outbox.StripeGateway;
import io.creditledger.time.Now;
import io.creditledger.users.UserStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;

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

  private final Vertx vertx;
  private final Pool pool;
  private final LedgerConfig config;
  private final Transactions transactions;
  private final LedgerStore store;
  private final GrantWriter grants;
  private final GrantRevoker revoker;
  private final OutboxStore outbox;
  private final StripeGateway gateway;
  private final UserStore users = new UserStore();

  public StripeWebhookService(Vertx vertx, Pool pool, LedgerConfig config, Transactions transactions,
                              LedgerStore store, GrantWriter grants, GrantRevoker revoker, OutboxStore outbox) {
    this.vertx = vertx;
    this.pool = pool;
    this.config = config;
    this.transactions = transactions;
    this.store = store;
    this.grants = grants;
    this.revoker = revoker;
    this.outbox = outbox;
    this.gateway = config.stripe().relayEnabled() ? new StripeGateway(config.stripe()) : null;
  }

  /** {@code {payload, signature}}: the raw body and the Stripe-Signature header. */
  public Future<Reply> handle(JsonObject body) {
    String secret = config.stripe().webhookSecret();
    if (secret == null) {
      throw LedgerException.unavailable("webhook_not_configured", "STRIPE_WEBHOOK_SECRET is not set");
    }
    // the signature is checked first: nothing about an unsigned request deserves a more specific answer
    String payload = body.getValue("payload") instanceof String p ? p : "";
    String signature = body.getValue("signature") instanceof String s && !s.isBlank() ? s : null;
    verify(payload, signature, secret);
    JsonObject event;
    try {
      event = new JsonObject(payload);
    } catch (DecodeException | ClassCastException e) {
      throw LedgerException.badRequest("invalid_payload", "The event is not a JSON object");
    }
    String eventId = event.getValue("id") instanceof String s ? s : null;
    String type = event.getValue("type") instanceof String s ? s : null;
    JsonObject data = event.getValue("data") instanceof JsonObject d ? d : null;
    JsonObject object = data != null && data.getValue("object") instanceof JsonObject o ? o : null;
    if (eventId == null || type == null || object == null) {
      throw LedgerException.badRequest("invalid_payload", "The event needs id, type and data.object");
    }
    Instant now = Now.of(config.clock());
    Future<String> refundTarget = "charge.refunded".equals(type) ? refundedGrantOperation(object)
        : Future.succeededFuture(null);
    return refundTarget.compose(refundOperation -> transactions.run(
        new Transactions.Failure("stripe-event/" + eventId, null, new JsonObject().put("type", type)),
        conn -> StripeEvents.recordFirst(conn, eventId, type, now).compose(first -> first
            ? apply(conn, eventId, type, object, refundOperation, now)
            : Future.succeededFuture("duplicate_event"))))
        .map(outcome -> Reply.ok(new JsonObject().put("received", true).put("eventId", eventId)
            .put("type", type).put("outcome", outcome)));
  }

  private void verify(String payload, String signature, String secret) {
    if (signature == null || signature.length() > 4096) {
      throw LedgerException.badRequest("invalid_signature", "The Stripe-Signature header is missing or malformed");
    }
    try {
      Webhook.constructEvent(payload, signature, secret, TOLERANCE_SECONDS, config.clock());
    } catch (SignatureVerificationException e) {
      boolean stale = e.getMessage() != null && e.getMessage().contains("tolerance");
      throw LedgerException.badRequest(stale ? "stale_timestamp" : "invalid_signature", stale
          ? "The signature's timestamp is more than " + TOLERANCE_SECONDS + " s away from now"
          : "The Stripe-Signature header does not match the body");
    } catch (RuntimeException e) {
      throw LedgerException.badRequest("invalid_payload", "The event could not be read as a Stripe event");
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
      case "payment_intent.succeeded" -> purchase(conn, eventId, object, stringOrNull(object, "id"), now);
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
          || !Input.ID.matcher(userId).matches() || !Input.ID.matcher(operationId).matches()) {
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
    return grants.writeOnce(conn, userId, spec, now)
        .map(reply -> reply.replayed() ? "replayed" : "granted")
        .recover(e -> e instanceof LedgerException le
            ? failure(conn, eventId, operationId, userId, object, le.code() + ": " + le.getMessage(), now)
            : Future.failedFuture(e));
  }

  // ---- refunds

  /** The operationId of the purchase grant a charge paid for: by its PaymentIntent, else its metadata at Stripe. */
  private Future<String> refundedGrantOperation(JsonObject charge) {
    String paymentIntentId = stringOrNull(charge, "payment_intent");
    if (paymentIntentId == null) {
      return Future.succeededFuture(null);
    }
    return store.grantByPaymentIntent(pool, paymentIntentId).compose(grant -> {
      if (grant != null) {
        return Future.succeededFuture(grant.operationId());
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
    Long amount = longOrNull(charge, "amount");
    Long refunded = longOrNull(charge, "amount_refunded");
    if (operationId == null) {
      return failure(conn, eventId, null, null, charge, "no purchase grant for PaymentIntent "
          + stringOrNull(charge, "payment_intent"), now);
    }
    if (amount == null || refunded == null || amount <= 0 || refunded < 0) {
      return failure(conn, eventId, operationId, null, charge, "the charge has no usable amount/amount_refunded", now);
    }
    return store.grantByOperation(conn, operationId).compose(found -> {
      if (found == null) {
        return failure(conn, eventId, operationId, null, charge, "no grant with operationId " + operationId, now);
      }
      return users.lock(conn, found.userId())
          .compose(user -> store.grantByOperation(conn, operationId))
          .compose(grant -> revokeShare(conn, grant, chargeId, amount, refunded, now));
    });
  }

  /** Revokes the refunded share of the grant, cumulatively: what the refunds so far cover, less what is revoked. */
  private Future<String> revokeShare(SqlConnection conn, Grant grant, String chargeId, long amount, long refunded,
                                     Instant now) {
    if (grant.closedAt() != null) {
      return Future.succeededFuture("ignored_grant_closed");
    }
    boolean full = refunded >= amount;
    long target = full ? grant.principal() : BigDecimal.valueOf(grant.principal())
        .multiply(BigDecimal.valueOf(refunded))
        .divide(BigDecimal.valueOf(amount), 0, RoundingMode.HALF_UP)
        .longValueExact();
    return store.revokedSoFar(conn, grant.grantId()).compose(soFar -> revoker.revoke(conn, grant,
            Math.max(0, target - soFar), full, "refund " + chargeId, "refund/" + chargeId + "/" + refunded, now))
        .map(r -> (full ? "revoked_all:" : "revoked:") + r.credits());
  }

  // ---- mirror confirmation

  private Future<String> confirm(SqlConnection conn, String eventId, JsonObject creditGrant, Instant now) {
    String stripeId = stringOrNull(creditGrant, "id");
    JsonObject metadata = creditGrant.getValue("metadata") instanceof JsonObject m ? m : new JsonObject();
    String operationId = stringOrNull(metadata, "operationId");
    if (stripeId == null || operationId == null) {
      return Future.succeededFuture("ignored_not_ours");
    }
    return store.grantByOperation(conn, operationId).compose(grant -> {
      if (grant == null) {
        return Future.succeededFuture("ignored_not_ours");
      }
      if (grant.stripeGrantId() != null && !grant.stripeGrantId().equals(stripeId)) {
        return failure(conn, eventId, operationId, grant.userId(), creditGrant, "Stripe holds a second credit grant "
            + stripeId + " for grant " + operationId + " (mirrored as " + grant.stripeGrantId() + ")", now);
      }
      Future<Void> voided = creditGrant.getValue("voided_at") != null
          ? outbox.confirmVoid(conn, grant.grantId(), now) : Future.succeededFuture();
      return Future.all(outbox.confirmCreate(conn, grant.grantId(), stripeId, now), voided).map("confirmed");
    });
  }

  private Future<String> failure(SqlConnection conn, String eventId, String operationId, String userId,
                                 JsonObject object, String error, Instant now) {
    log.warn("Stripe event {} cannot be applied: {}", eventId, error);
    return SyncFailures.record(conn, SyncFailures.STRIPE, operationId, userId,
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
