package io.creditledger.stripe;

import io.creditledger.support.Api;
import io.creditledger.support.FakeStripe;
import io.creditledger.support.StripeFixtures;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.SQLException;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Stripe's webhooks, with payloads built from Stripe's fixtures and signed the way Stripe signs them. */
class WebhooksHttpTest {
  static final String SECRET = "whsec_test_0123456789abcdef";
  /** Answers the PaymentIntent look-ups; these users have no Stripe customer. Closed after the app. */
  @AutoClose
  static final FakeStripe stripe = FakeStripe.start();
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "0",
      "STRIPE_WEBHOOK_SECRET", SECRET, "STRIPE_API_KEY", "sk_test_webhooks", "STRIPE_API_BASE", stripe.baseUrl()),
      started -> app = started);

  static long now() {
    return app.clock.instant().getEpochSecond();
  }

  static Api.Response post(String payload, String signature) {
    Api anonymous = app.api.withToken(null);
    return signature == null ? anonymous.raw("POST", "/v1/stripe/webhook", "application/json", payload)
        : anonymous.rawWithHeader("POST", "/v1/stripe/webhook", "application/json", payload, "Stripe-Signature", signature);
  }

  static Api.Response deliver(JsonObject event) {
    String payload = event.encode();
    return post(payload, StripeFixtures.signature(payload, SECRET, now()));
  }

  static JsonObject checkoutSession(String paymentStatus, String paymentIntent, JsonObject metadata) {
    return StripeFixtures.fixture("checkout.session").put("payment_status", paymentStatus)
        .put("status", "complete").put("payment_intent", paymentIntent).put("metadata", metadata);
  }

  static JsonObject metadata(String userId, long credits, String operationId) {
    return new JsonObject().put("userId", userId).put("credits", Long.toString(credits)).put("operationId", operationId);
  }

  static JsonObject charge(String paymentIntent, long amount, long refunded) {
    return StripeFixtures.fixture("charge").put("id", "ch_" + paymentIntent).put("payment_intent", paymentIntent)
        .put("amount", amount).put("amount_refunded", refunded).put("refunded", refunded >= amount);
  }

  @Test
  void aPaidCheckoutGrantsPurchasedCreditsOnceWhateverEventsRepeatIt() {
    app.user("w-buyer");
    JsonObject session = checkoutSession("paid", "pi_buy_1", metadata("w-buyer", 500, "order-w-1"));
    JsonObject event = StripeFixtures.event("checkout.session.completed", session, now());
    Api.Response first = deliver(event);
    assertThat(first.status()).as(first.toString()).isEqualTo(200);
    assertThat(first.json().getString("outcome")).isEqualTo("granted");

    Api.Response replay = deliver(event);
    assertThat(replay.status()).isEqualTo(200);
    assertThat(replay.json().getString("outcome")).isEqualTo("duplicate_event");

    JsonObject intent = StripeFixtures.fixture("payment_intent").put("id", "pi_buy_1").put("status", "succeeded")
        .put("metadata", metadata("w-buyer", 500, "order-w-1"));
    Api.Response sameOrder = deliver(StripeFixtures.event("payment_intent.succeeded", intent, now()));
    assertThat(sameOrder.json().getString("outcome")).isEqualTo("replayed");

    JsonArray grants = app.grants("w-buyer");
    assertThat(grants).hasSize(1);
    assertThat(grants.getJsonObject(0).getString("type")).isEqualTo("purchase");
    assertThat(grants.getJsonObject(0).getLong("principal")).isEqualTo(500);
    assertThat(grants.getJsonObject(0).getString("operationId")).isEqualTo("order-w-1");
    assertThat(app.balance("w-buyer").getLong("totalRemaining")).isEqualTo(500);
  }

  @Test
  void anUnpaidCheckoutGrantsNothingAndAsyncSuccessDoes() {
    app.user("w-async");
    JsonObject session = checkoutSession("unpaid", "pi_async", metadata("w-async", 80, "order-w-async"));
    assertThat(deliver(StripeFixtures.event("checkout.session.completed", session, now())).json().getString("outcome"))
        .isEqualTo("ignored_unpaid");
    assertThat(app.grants("w-async")).isEmpty();
    session.put("payment_status", "paid");
    assertThat(deliver(StripeFixtures.event("checkout.session.async_payment_succeeded", session, now()))
        .json().getString("outcome")).isEqualTo("granted");
    assertThat(app.balance("w-async").getLong("totalRemaining")).isEqualTo(80);
  }

  @Test
  void aPaymentIntentAloneIsAPurchaseToo() {
    app.user("w-pi");
    JsonObject intent = StripeFixtures.fixture("payment_intent").put("id", "pi_alone").put("status", "succeeded")
        .put("metadata", metadata("w-pi", 42, "order-w-pi"));
    assertThat(deliver(StripeFixtures.event("payment_intent.succeeded", intent, now())).json().getString("outcome"))
        .isEqualTo("granted");
    assertThat(app.balance("w-pi").getLong("totalRemaining")).isEqualTo(42);
  }

  @Test
  void refundsRevokeTheRefundedShareCumulativelyAndAFullRefundClosesTheGrant() {
    app.user("w-refund");
    deliver(StripeFixtures.event("checkout.session.completed",
        checkoutSession("paid", "pi_refund", metadata("w-refund", 1000, "order-w-refund")), now()));
    app.consume("w-refund", "w-refund-spend", 100);

    Api.Response partial = deliver(StripeFixtures.event("charge.refunded", charge("pi_refund", 2000, 600), now()));
    assertThat(partial.json().getString("outcome")).isEqualTo("revoked:300");
    assertThat(app.balance("w-refund").getLong("totalRemaining")).isEqualTo(600);
    JsonObject grant = app.grants("w-refund").getJsonObject(0);
    assertThat(grant.getString("state")).isEqualTo("active");

    Api.Response more = deliver(StripeFixtures.event("charge.refunded", charge("pi_refund", 2000, 1000), now()));
    assertThat(more.json().getString("outcome")).as("500 of 1000 refunded in all, 300 taken already").isEqualTo("revoked:200");

    Api.Response full = deliver(StripeFixtures.event("charge.refunded", charge("pi_refund", 2000, 2000), now()));
    assertThat(full.json().getString("outcome")).as("what is left, never the 100 already spent").isEqualTo("revoked_all:400");
    grant = app.grants("w-refund").getJsonObject(0);
    assertThat(grant.getString("state")).isEqualTo("revoked");
    assertThat(grant.getLong("principal")).isEqualTo(1000);
    assertThat(grant.getLong("balance")).isZero();
    assertThat(app.balance("w-refund").getLong("totalRemaining")).isZero();
    assertThat(app.balance("w-refund").getLong("usageThisCycle")).isEqualTo(100);
  }

  @Test
  void aRefundFindsItsGrantThroughThePaymentIntentsMetadataAtStripe() {
    app.user("w-fallback");
    // granted by the API, so the ledger never learned the PaymentIntent
    app.grant("w-fallback", "order-w-fallback", "purchase", 300);
    stripe.putPaymentIntent(StripeFixtures.fixture("payment_intent").put("id", "pi_unknown_here")
        .put("metadata", new JsonObject().put("operationId", "order-w-fallback")));
    Api.Response r = deliver(StripeFixtures.event("charge.refunded", charge("pi_unknown_here", 900, 900), now()));
    assertThat(r.json().getString("outcome")).isEqualTo("revoked_all:300");
    assertThat(app.grants("w-fallback").getJsonObject(0).getString("state")).isEqualTo("revoked");
  }

  @Test
  void anEventTheLedgerCannotApplyIsAcknowledgedAndRecorded() throws SQLException {
    JsonObject session = checkoutSession("paid", "pi_ghost", metadata("w-nobody", 10, "order-w-ghost"));
    Api.Response r = deliver(StripeFixtures.event("checkout.session.completed", session, now()));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("outcome")).isEqualTo("failed_recorded");
    assertThat(app.number("SELECT count(*) FROM sync_failure WHERE provider = 'stripe' AND operation_id = 'order-w-ghost' "
        + "AND error LIKE 'user_not_found%'")).isEqualTo(1);

    app.user("w-bad-meta");
    JsonObject badCredits = checkoutSession("paid", "pi_bad", new JsonObject().put("userId", "w-bad-meta")
        .put("credits", "lots").put("operationId", "order-w-bad"));
    assertThat(deliver(StripeFixtures.event("checkout.session.completed", badCredits, now())).json().getString("outcome"))
        .isEqualTo("failed_recorded");
    assertThat(app.grants("w-bad-meta")).isEmpty();

    JsonObject foreign = checkoutSession("paid", "pi_foreign", new JsonObject());
    assertThat(deliver(StripeFixtures.event("checkout.session.completed", foreign, now())).json().getString("outcome"))
        .isEqualTo("ignored_no_ledger_metadata");
  }

  @Test
  void creditGrantEventsConfirmTheMirrorAndFillInAnIdTheRelayLost() throws SQLException {
    stripe.outage(true); // the relay cannot deliver: only the webhook can tell the ledger the Stripe id
    try {
      app.user("w-mirror", new JsonObject().put("email", "m@example.com").put("stripeCustomerId", "cus_wmirror"));
      app.grant("w-mirror", "w-mirror-g", "purchase", 70);
      JsonObject creditGrant = StripeFixtures.fixture("billing.credit_grant").put("id", "credgr_from_webhook")
          .put("customer", "cus_wmirror").put("metadata", new JsonObject().put("operationId", "w-mirror-g"));
      Api.Response r = deliver(StripeFixtures.event("billing.credit_grant.created", creditGrant, now()));
      assertThat(r.json().getString("outcome")).isEqualTo("confirmed");
      JsonObject stripeState = app.grants("w-mirror").getJsonObject(0).getJsonObject("stripe");
      assertThat(stripeState.getString("state")).isEqualTo("synced");
      assertThat(stripeState.getString("stripeGrantId")).isEqualTo("credgr_from_webhook");
      assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE status = 'delivered' "
          + "AND stripe_object_id = 'credgr_from_webhook'")).isEqualTo(1);

      creditGrant.put("voided_at", now());
      assertThat(deliver(StripeFixtures.event("billing.credit_grant.updated", creditGrant, now())).json()
          .getString("outcome")).isEqualTo("confirmed");
      assertThat(app.grants("w-mirror").getJsonObject(0).getJsonObject("stripe").getBoolean("voided")).isTrue();

      JsonObject other = creditGrant.copy().put("id", "credgr_second");
      assertThat(deliver(StripeFixtures.event("billing.credit_grant.created", other, now())).json()
          .getString("outcome")).as("a second Stripe grant for one ledger grant is a problem to look at")
          .isEqualTo("failed_recorded");
      JsonObject notOurs = StripeFixtures.fixture("billing.credit_grant").put("metadata", new JsonObject());
      assertThat(deliver(StripeFixtures.event("billing.credit_grant.created", notOurs, now())).json()
          .getString("outcome")).isEqualTo("ignored_not_ours");
    } finally {
      stripe.outage(false);
    }
  }

  @Test
  void unknownEventTypesAreAcknowledged() {
    Api.Response r = deliver(StripeFixtures.event("customer.created", StripeFixtures.fixture("customer"), now()));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("outcome")).isEqualTo("ignored");
  }

  @Test
  void badSignaturesStaleTimestampsAndMalformedPayloadsAre400() {
    JsonObject event = StripeFixtures.event("customer.created", StripeFixtures.fixture("customer"), now());
    String payload = event.encode();

    Api.Response wrongSecret = post(payload, StripeFixtures.signature(payload, "whsec_other", now()));
    assertThat(wrongSecret.status()).isEqualTo(400);
    assertThat(wrongSecret.errorCode()).isEqualTo("invalid_signature");

    Api.Response tampered = post(payload.replace("customer.created", "customer.deleted"),
        StripeFixtures.signature(payload, SECRET, now()));
    assertThat(tampered.errorCode()).isEqualTo("invalid_signature");

    Api.Response stale = post(payload, StripeFixtures.signature(payload, SECRET, now() - 301));
    assertThat(stale.status()).isEqualTo(400);
    assertThat(stale.errorCode()).isEqualTo("stale_timestamp");

    Api.Response missing = post(payload, null);
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.errorCode()).isEqualTo("invalid_signature");

    String notJson = "{\"id\": \"evt_1\", \"type\": ";
    Api.Response malformed = post(notJson, StripeFixtures.signature(notJson, SECRET, now()));
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.errorCode()).isEqualTo("invalid_payload");

    String noObject = new JsonObject().put("id", "evt_2").put("type", "charge.refunded").encode();
    Api.Response incomplete = post(noObject, StripeFixtures.signature(noObject, SECRET, now()));
    assertThat(incomplete.status()).isEqualTo(400);
    assertThat(incomplete.errorCode()).isEqualTo("invalid_payload");
  }

  @Test
  void theWebhookNeedsNoBearerTokenButTheRestOfTheApiStillDoes() {
    assertThat(deliver(StripeFixtures.event("customer.created", StripeFixtures.fixture("customer"), now())).status())
        .isEqualTo(200);
    assertThat(app.api.withToken(null).get("/v1/users/w-buyer").status()).isEqualTo(401);
  }
}
