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

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stripe's webhooks across cycle boundaries: refunds that follow credits into rollovers, refunds that arrive
 * before their purchase, and credit grants made in Stripe itself. Each test starts on a day of its own.
 */
class RefundsAcrossCyclesTest {
  static final String SECRET = "whsec_test_cycles_0123456789";
  /** Closed after the app, which calls it. */
  @AutoClose
  static final FakeStripe stripe = FakeStripe.start();
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "100",
      "RESET_CYCLE", "P1D", "RESET_SCAN_INTERVAL", "PT1H", "STRIPE_WEBHOOK_SECRET", SECRET,
      "STRIPE_API_KEY", "sk_test_cycles", "STRIPE_API_BASE", stripe.baseUrl()), started -> app = started);

  static Instant freshDay(int day) {
    Instant start = Instant.parse("2026-05-01T09:00:00Z").plusSeconds(86_400L * 10 * day);
    app.clock.set(start);
    return start;
  }

  static String deliver(String type, JsonObject object) {
    JsonObject event = StripeFixtures.event(type, object, app.clock.instant().getEpochSecond());
    String payload = event.encode();
    Api.Response r = app.api.withToken(null).rawWithHeader("POST", "/v1/stripe/webhook", "application/json", payload,
        "Stripe-Signature", StripeFixtures.signature(payload, SECRET, app.clock.instant().getEpochSecond()));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().getString("outcome");
  }

  static String buy(String userId, String paymentIntent, long credits, String operationId) {
    JsonObject session = StripeFixtures.fixture("checkout.session").put("payment_status", "paid").put("status", "complete")
        .put("payment_intent", paymentIntent).put("metadata", new JsonObject().put("userId", userId)
            .put("credits", Long.toString(credits)).put("operationId", operationId));
    return deliver("checkout.session.completed", session);
  }

  static String refund(String paymentIntent, long amount, long refunded) {
    JsonObject charge = StripeFixtures.fixture("charge").put("id", "ch_" + paymentIntent)
        .put("payment_intent", paymentIntent).put("amount", amount).put("amount_refunded", refunded)
        .put("refunded", refunded >= amount);
    return deliver("charge.refunded", charge);
  }

  static JsonObject grant(String userId, String operationId) {
    JsonArray all = app.grants(userId);
    for (int i = 0; i < all.size(); i++) {
      if (all.getJsonObject(i).getString("operationId").equals(operationId)) {
        return all.getJsonObject(i);
      }
    }
    throw new AssertionError("no grant " + operationId + " in " + all.encodePrettily());
  }

  static long rolloverBalance(String userId) {
    return app.balance(userId).getJsonObject("breakdown").getLong("rollover");
  }

  @Test
  void aRefundAfterARolloverTakesItsCreditsBack() {
    Instant start = freshDay(1);
    app.user("rr-full");
    assertThat(buy("rr-full", "pi_rr_full", 800, "rr-full-order")).isEqualTo("granted");
    app.clock.set(start.plusSeconds(86_400 + 60));
    assertThat(rolloverBalance("rr-full")).isEqualTo(800);
    assertThat(grant("rr-full", "rr-full-order").getString("state")).isEqualTo("rolled_over");

    assertThat(refund("pi_rr_full", 800, 800)).isEqualTo("revoked_all:800");

    assertThat(rolloverBalance("rr-full")).isZero();
    assertThat(grant("rr-full", "rr-full-order").getString("state")).isEqualTo("revoked");
    assertThat(app.balance("rr-full").getLong("netBalance")).as("the new cycle's free credits stay").isEqualTo(100);
  }

  @Test
  void partialRefundsAfterARolloverAreCumulativeAndNeverTakeMoreThanRemains() {
    Instant start = freshDay(2);
    app.user("rr-part");
    buy("rr-part", "pi_rr_part", 1000, "rr-part-order");
    app.clock.set(start.plusSeconds(86_400 + 60));
    app.consume("rr-part", "rr-part-c", 200); // 100 new free credits, then 100 of the rollover

    assertThat(refund("pi_rr_part", 2000, 1000)).as("half the charge: 500 credits").isEqualTo("revoked:500");
    assertThat(rolloverBalance("rr-part")).isEqualTo(400);
    assertThat(refund("pi_rr_part", 2000, 1000)).as("the same refund again takes nothing more").isEqualTo("revoked:0");

    assertThat(refund("pi_rr_part", 2000, 2000)).as("the rest: 500 more asked, 400 remain").isEqualTo("revoked_all:400");
    assertThat(rolloverBalance("rr-part")).isZero();
    assertThat(app.number("SELECT revoked FROM rollover_sources s JOIN grants g ON g.grant_id = s.source_grant_id "
        + "WHERE g.operation_id = 'rr-part-order'")).isEqualTo(900);
  }

  @Test
  void aRefundThatArrivesBeforeItsPurchaseIsAppliedWhenThePurchaseIsGranted() {
    freshDay(3);
    app.user("early");
    assertThat(refund("pi_early", 900, 900)).isEqualTo("refund_pending");
    assertThat(app.number("SELECT count(*) FROM pending_refunds WHERE payment_intent_id = 'pi_early'")).isEqualTo(1);

    assertThat(buy("early", "pi_early", 900, "early-order")).isEqualTo("granted");

    JsonObject purchase = grant("early", "early-order");
    assertThat(purchase.getString("state")).isEqualTo("revoked");
    assertThat(purchase.getLong("balance")).isZero();
    assertThat(app.number("SELECT count(*) FROM pending_refunds")).isZero();
    assertThat(app.balance("early").getJsonObject("breakdown").getLong("purchase")).isZero();
  }

  @Test
  void aPartialRefundThatArrivesEarlyTakesItsShare() {
    freshDay(4);
    app.user("early-part");
    assertThat(refund("pi_early_part", 1000, 250)).isEqualTo("refund_pending");
    buy("early-part", "pi_early_part", 400, "early-part-order");
    JsonObject purchase = grant("early-part", "early-part-order");
    assertThat(purchase.getString("state")).isEqualTo("active");
    assertThat(purchase.getLong("balance")).isEqualTo(300);
  }

  @Test
  void aCreditGrantMadeInStripeItselfIsImportedAndFollowed() {
    Instant start = freshDay(5);
    app.user("imp", new JsonObject().put("email", "imp@example.com").put("stripeCustomerId", "cus_imp")
        .put("centsPerCredit", "2"));
    JsonObject dashboardGrant = StripeFixtures.fixture("billing.credit_grant").put("id", "credgr_dash_1")
        .put("customer", "cus_imp").put("category", "paid").put("metadata", new JsonObject()).putNull("expires_at")
        .putNull("voided_at").put("amount", new JsonObject().put("type", "monetary")
            .put("monetary", new JsonObject().put("currency", "usd").put("value", 1000)));

    assertThat(deliver("billing.credit_grant.created", dashboardGrant)).isEqualTo("imported");

    JsonObject imported = grant("imp", "stripe/credgr_dash_1");
    assertThat(imported.getString("type")).isEqualTo("purchase");
    assertThat(imported.getLong("principal")).as("1000 cents at 2 cents per credit").isEqualTo(500);
    assertThat(imported.getLong("cents")).isEqualTo(1000);
    assertThat(imported.getJsonObject("stripe").getString("stripeGrantId")).isEqualTo("credgr_dash_1");
    assertThat(imported.getJsonObject("stripe").getString("state")).isEqualTo("synced");
    assertThat(app.number("SELECT count(*) FROM stripe_outbox o JOIN grants g ON g.grant_id = o.grant_id "
        + "WHERE g.operation_id = 'stripe/credgr_dash_1'")).as("nothing to send: Stripe made it").isZero();
    assertThat(deliver("billing.credit_grant.created", dashboardGrant)).as("imported once").isEqualTo("unchanged");

    long expiry = start.plusSeconds(5 * 86_400).getEpochSecond();
    assertThat(deliver("billing.credit_grant.updated", dashboardGrant.copy().put("expires_at", expiry)))
        .isEqualTo("expiry_updated");
    assertThat(grant("imp", "stripe/credgr_dash_1").getString("expiresAt"))
        .isEqualTo(Instant.ofEpochSecond(expiry).toString());

    assertThat(deliver("billing.credit_grant.updated", dashboardGrant.copy().put("expires_at", expiry)
        .put("voided_at", start.getEpochSecond() + 60))).isEqualTo("revoked_all:500");
    JsonObject voided = grant("imp", "stripe/credgr_dash_1");
    assertThat(voided.getString("state")).isEqualTo("revoked");
    assertThat(voided.getJsonObject("stripe").getBoolean("voided")).isTrue();

    JsonObject promotional = dashboardGrant.copy().put("id", "credgr_dash_2").put("category", "promotional");
    assertThat(deliver("billing.credit_grant.created", promotional)).isEqualTo("imported");
    assertThat(grant("imp", "stripe/credgr_dash_2").getString("type")).isEqualTo("admin");
  }
}
