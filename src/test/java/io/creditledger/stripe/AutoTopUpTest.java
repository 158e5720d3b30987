package io.creditledger.stripe;

import io.creditledger.support.Api;
import io.creditledger.support.Eventually;
import io.creditledger.support.FakeStripe;
import io.creditledger.support.StripeFixtures;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Auto top-up against the fake Stripe: the settings, one PaymentIntent per crossing while one is in flight, the
 * credits granted once when the relay's answer and Stripe's webhook race, and a decline turning it off.
 */
class AutoTopUpTest {
  static final String SECRET = "whsec_test_autotopup_0123456789";
  @AutoClose
  static final FakeStripe stripe = FakeStripe.start();
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of(
      "FREE_GRANT_CREDITS", "0",
      "STRIPE_API_KEY", "sk_test_autotopup",
      "STRIPE_API_BASE", stripe.baseUrl(),
      "STRIPE_WEBHOOK_SECRET", SECRET,
      "STRIPE_OUTBOX_POLL_INTERVAL", "PT0.2S",
      "STRIPE_BACKOFF_BASE", "PT0.1S",
      "EVENTS_POLL_INTERVAL", "PT0.1S"), started -> app = started);

  private static final Duration WAIT = Duration.ofSeconds(15);

  private static void customer(String userId) {
    app.user(userId, new JsonObject().put("email", userId + "@example.com").put("stripeCustomerId", "cus_" +
        userId.replace("-", "")).put("centsPerCredit", "2.5"));
  }

  private static Api.Response settings(String userId, JsonObject body) {
    return app.api.put("/v1/users/" + userId + "/auto-top-up", body);
  }

  private static JsonObject on(long threshold, long amount) {
    return new JsonObject().put("enabled", true).put("threshold", threshold).put("amount", amount)
        .put("paymentMethodId", "pm_card_visa");
  }

  private static List<JsonObject> intentsFor(String userId) {
    return stripe.paymentIntentsCreated().stream()
        .filter(pi -> userId.equals(pi.getJsonObject("metadata").getString("userId"))).toList();
  }

  private static long events(String type, String userId) {
    return app.number("SELECT count(*) FROM events WHERE type = '" + type + "' AND user_id = '" + userId + "'");
  }

  @Test
  void settingsAreCheckedAndShown() {
    app.user("t-plain");
    Api.Response noCustomer = settings("t-plain", on(100, 500));
    assertThat(noCustomer.status()).isEqualTo(400);
    assertThat(noCustomer.errorCode()).isEqualTo("stripe_customer_required");
    assertThat(settings("t-ghost", on(100, 500)).status()).isEqualTo(404);

    customer("t-set");
    assertThat(settings("t-set", on(100, 499)).errorCode()).isEqualTo("invalid_field");
    assertThat(settings("t-set", on(-1, 500)).errorCode()).isEqualTo("invalid_field");
    assertThat(settings("t-set", on(100, 500).put("paymentMethodId", "card")).errorCode()).isEqualTo("invalid_field");
    assertThat(settings("t-set", on(100, 500).put("extra", 1)).errorCode()).isEqualTo("unknown_field");
    assertThat(settings("t-set", new JsonObject().put("threshold", 1).put("amount", 500)).errorCode())
        .isEqualTo("missing_field");

    JsonObject off = app.api.get("/v1/users/t-set/auto-top-up").json();
    assertThat(off.getBoolean("enabled")).isFalse();

    Api.Response saved = settings("t-set", on(100, 600));
    assertThat(saved.status()).as(saved.toString()).isEqualTo(200);
    JsonObject shown = app.api.get("/v1/users/t-set/auto-top-up").json();
    assertThat(shown.getBoolean("enabled")).isTrue();
    assertThat(shown.getLong("threshold")).isEqualTo(100);
    assertThat(shown.getLong("amount")).isEqualTo(600);
    assertThat(shown.getString("paymentMethodId")).isEqualTo("pm_card_visa");
    assertThat(shown.getBoolean("inFlight")).isFalse();
    assertThat(shown.fieldNames()).contains("lastAttemptAt", "lastError", "disabledReason");
    assertThat(app.api.get("/v1/users/t-ghost/auto-top-up").status()).isEqualTo(404);
  }

  @Test
  void spendingBelowTheThresholdChargesOnceAndTheCreditsArriveOnceWhenWebhookAndAnswerRace() {
    customer("t-race");
    assertThat(app.grant("t-race", "t-race-g", "purchase", 1000).status()).isEqualTo(201);
    assertThat(settings("t-race", on(200, 500)).status()).isEqualTo(200);

    // Stripe takes the charge at once but answers the relay 2 s later: the webhook arrives first (the grant's mirror
    // is sent first, so the slow answer is the charge's)
    Eventually.await("the grant mirrored", WAIT, () -> app.number("SELECT count(*) FROM stripe_outbox "
        + "WHERE user_id = 't-race' AND status <> 'delivered'") == 0);
    stripe.slowNext(1, 2000);
    assertThat(app.consume("t-race", "t-race-1", 850).status()).isEqualTo(200); // 150 left: below 200
    Eventually.await("the PaymentIntent", WAIT, () -> intentsFor("t-race").size() == 1);
    assertThat(app.consume("t-race", "t-race-2", 10).status()).isEqualTo(200); // in flight: no second charge
    assertThat(app.api.get("/v1/users/t-race/auto-top-up").json().getBoolean("inFlight")).isTrue();

    JsonObject intent = intentsFor("t-race").get(0);
    assertThat(intent.getString("status")).isEqualTo("succeeded");
    assertThat(intent.getLong("amount")).isEqualTo(1250); // ceil(500 x 2.5)
    assertThat(intent.getString("customer")).isEqualTo("cus_trace");
    assertThat(intent.getString("payment_method")).isEqualTo("pm_card_visa");
    assertThat(intent.getJsonObject("metadata").getMap()).containsEntry("operationId", "topup/t-race/1")
        .containsEntry("credits", "500").containsEntry("grantType", "purchase").containsEntry("userId", "t-race");
    Api.Response webhook = deliver(StripeFixtures.event("payment_intent.succeeded", intent,
        app.clock.instant().getEpochSecond()));
    assertThat(webhook.status()).as(webhook.toString()).isEqualTo(200);
    assertThat(webhook.json().getString("outcome")).isEqualTo("granted");
    assertThat(app.api.get("/v1/users/t-race/auto-top-up").json().getBoolean("inFlight")).isFalse();

    Eventually.await("the relay's answer recorded", WAIT, () -> app.number("SELECT count(*) FROM stripe_outbox "
        + "WHERE idempotency_key = 'topup/t-race/1' AND status = 'delivered'") == 1);
    assertThat(app.balance("t-race").getLong("netBalance")).isEqualTo(1000 - 850 - 10 + 500);
    assertThat(app.number("SELECT count(*) FROM grants WHERE operation_id = 'topup/t-race/1'")).isEqualTo(1);
    assertThat(events("auto_top_up.succeeded", "t-race")).isEqualTo(1);
    assertThat(intentsFor("t-race")).hasSize(1);
    assertThat(app.text("SELECT data->>'threshold' FROM events WHERE type = 'balance.low' AND user_id = 't-race'"))
        .as("the user's own threshold raises balance.low").isEqualTo("200");

    // the next crossing starts the next top-up; this time the relay's answer settles it
    assertThat(app.consume("t-race", "t-race-3", 500).status()).isEqualTo(200); // 140 left
    Eventually.await("the second top-up granted", WAIT,
        () -> app.number("SELECT count(*) FROM grants WHERE operation_id = 'topup/t-race/2'") == 1);
    Eventually.await("settled", WAIT, () -> events("auto_top_up.succeeded", "t-race") == 2);
    assertThat(app.balance("t-race").getLong("netBalance")).isEqualTo(640);
    assertThat(intentsFor("t-race")).hasSize(2);
    JsonObject shown = app.api.get("/v1/users/t-race/auto-top-up").json();
    assertThat(shown.getBoolean("inFlight")).isFalse();
    assertThat(shown.getString("lastAttemptAt")).isNotNull();
    // and the webhook for it, arriving after, changes nothing
    Api.Response late = deliver(StripeFixtures.event("payment_intent.succeeded", intentsFor("t-race").get(1),
        app.clock.instant().getEpochSecond()));
    assertThat(late.json().getString("outcome")).isEqualTo("replayed");
    assertThat(app.balance("t-race").getLong("netBalance")).isEqualTo(640);
    assertThat(events("auto_top_up.succeeded", "t-race")).isEqualTo(2);
  }

  @Test
  void anOrgsPoolIsToppedUpFromTheOrgsCustomer() {
    assertThat(app.api.put("/v1/orgs/t-org", new JsonObject().put("name", "Topped").put("stripeCustomerId",
        "cus_torg")).status()).isEqualTo(201);
    app.user("t-org-a");
    assertThat(app.api.put("/v1/orgs/t-org/members/t-org-a", new JsonObject().put("role", "member")).status())
        .isEqualTo(201);
    assertThat(app.api.post("/v1/orgs/t-org/grants", new JsonObject().put("operationId", "t-org-g")
        .put("type", "organization").put("amount", 1000)).status()).isEqualTo(201);
    Api.Response saved = app.api.put("/v1/orgs/t-org/auto-top-up", on(200, 500));
    assertThat(saved.status()).as(saved.toString()).isEqualTo(200);
    assertThat(saved.json().getString("orgId")).isEqualTo("t-org");
    assertThat(app.api.get("/v1/orgs/t-org/auto-top-up").json().getBoolean("enabled")).isTrue();

    assertThat(app.api.post("/v1/orgs/t-org/consume", new JsonObject().put("operationId", "t-org-c")
        .put("userId", "t-org-a").put("amount", 850)).status()).isEqualTo(200); // 150 left: below 200
    Eventually.await("the org's top-up granted", WAIT,
        () -> app.number("SELECT count(*) FROM grants WHERE operation_id = 'topup/org/t-org/1'") == 1);
    Eventually.await("settled", WAIT, () -> events("auto_top_up.succeeded", "org/t-org") == 1);
    JsonObject intent = intentsFor("org/t-org").get(0);
    assertThat(intent.getString("customer")).isEqualTo("cus_torg");
    assertThat(app.api.get("/v1/orgs/t-org/balance").json().getLong("netBalance")).isEqualTo(1000 - 850 + 500);
    assertThat(app.text("SELECT data->>'orgId' FROM events WHERE type = 'auto_top_up.succeeded' "
        + "AND user_id = 'org/t-org'")).isEqualTo("t-org");
    // the org's grants mirror to the org's Stripe customer
    Eventually.await("the org's grants mirrored", WAIT, () -> stripe.creditGrants().stream()
        .filter(g -> "cus_torg".equals(g.getString("customer"))).count() == 2);

    // Stripe's webhook for the same PaymentIntent, after the relay's answer, changes nothing
    Api.Response late = deliver(StripeFixtures.event("payment_intent.succeeded", intent,
        app.clock.instant().getEpochSecond()));
    assertThat(late.json().getString("outcome")).isEqualTo("replayed");
    assertThat(app.api.get("/v1/orgs/t-org/balance").json().getLong("netBalance")).isEqualTo(650);
    assertThat(app.api.put("/v1/orgs/t-none", new JsonObject().put("name", "None")).status()).isEqualTo(201);
    assertThat(app.api.put("/v1/orgs/t-none/auto-top-up", on(100, 500)).errorCode())
        .isEqualTo("stripe_customer_required");
    assertThat(app.api.put("/v1/orgs/t-none/auto-top-up", on(100, 500).put("enabled", false)).status())
        .as("turning it off needs no customer").isEqualTo(200);
  }

  @Test
  void aUserInDebtIsToppedUpEnoughToPayItOff() {
    customer("t-debt");
    assertThat(app.grant("t-debt", "t-debt-g", "purchase", 50).status()).isEqualTo(201);
    assertThat(settings("t-debt", on(0, 500)).status()).isEqualTo(200);
    assertThat(app.consume("t-debt", "t-debt-1", 120).status()).isEqualTo(200); // 70 in debt
    Eventually.await("the top-up granted", WAIT,
        () -> app.number("SELECT count(*) FROM grants WHERE operation_id = 'topup/t-debt/1'") == 1);
    JsonObject balance = app.balance("t-debt");
    assertThat(balance.getLong("totalDebt")).isZero();
    assertThat(balance.getLong("netBalance")).isEqualTo(430);
  }

  @Test
  void aDeclineTurnsAutoTopUpOffAndSaysSo() {
    customer("t-card");
    assertThat(app.grant("t-card", "t-card-g", "purchase", 300).status()).isEqualTo(201);
    assertThat(settings("t-card", on(100, 500)).status()).isEqualTo(200);
    stripe.declineNextPaymentIntents(1, "insufficient_funds");
    assertThat(app.consume("t-card", "t-card-1", 250).status()).isEqualTo(200);

    Eventually.await("auto top-up off", WAIT,
        () -> !app.api.get("/v1/users/t-card/auto-top-up").json().getBoolean("enabled"));
    JsonObject shown = app.api.get("/v1/users/t-card/auto-top-up").json();
    assertThat(shown.getString("disabledReason")).contains("card_declined").contains("insufficient_funds");
    assertThat(shown.getBoolean("inFlight")).isFalse();
    Eventually.await("auto_top_up.failed", WAIT, () -> events("auto_top_up.failed", "t-card") == 1);
    assertThat(app.text("SELECT data->>'operationId' FROM events WHERE type = 'auto_top_up.failed' "
        + "AND user_id = 't-card'")).isEqualTo("topup/t-card/1");
    assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE idempotency_key = 'topup/t-card/1' "
        + "AND status = 'dead'")).isEqualTo(1);
    assertThat(app.number("SELECT count(*) FROM grants WHERE operation_id = 'topup/t-card/1'")).isZero();
    // a dead outbox row tells the host too
    Eventually.await("stripe.sync_dead", WAIT, () -> events("stripe.sync_dead", "t-card") == 1);
    assertThat(app.text("SELECT data->>'action' || ' ' || (data->>'idempotencyKey') || ' ' || (data->>'status') "
        + "FROM events WHERE type = 'stripe.sync_dead' AND user_id = 't-card'"))
        .isEqualTo("create_payment_intent topup/t-card/1 dead");

    // off: spending further charges nothing; turned on again, the next crossing charges
    assertThat(app.consume("t-card", "t-card-2", 10).status()).isEqualTo(200);
    assertThat(intentsFor("t-card")).hasSize(1);
    assertThat(settings("t-card", on(100, 500)).status()).isEqualTo(200);
    assertThat(app.api.get("/v1/users/t-card/auto-top-up").json().getString("disabledReason")).isNull();
    assertThat(app.consume("t-card", "t-card-3", 10).status()).isEqualTo(200);
    Eventually.await("the next top-up granted", WAIT,
        () -> app.number("SELECT count(*) FROM grants WHERE operation_id = 'topup/t-card/2'") == 1);
  }

  @Test
  void withoutItsOwnCardATopUpChargesTheCustomersDefault() {
    customer("t-default");
    stripe.putCustomer("cus_tdefault", "pm_default_card");
    assertThat(app.grant("t-default", "t-default-g", "purchase", 100).status()).isEqualTo(201);
    assertThat(settings("t-default", on(50, 500).put("paymentMethodId", null)).status()).isEqualTo(200);
    assertThat(app.consume("t-default", "t-default-1", 60).status()).isEqualTo(200);
    Eventually.await("the top-up granted", WAIT,
        () -> app.number("SELECT count(*) FROM grants WHERE operation_id = 'topup/t-default/1'") == 1);
    assertThat(intentsFor("t-default").get(0).getString("payment_method")).isEqualTo("pm_default_card");

    customer("t-nocard");
    stripe.putCustomer("cus_tnocard", null);
    assertThat(app.grant("t-nocard", "t-nocard-g", "purchase", 100).status()).isEqualTo(201);
    assertThat(settings("t-nocard", on(50, 500).put("paymentMethodId", null)).status()).isEqualTo(200);
    assertThat(app.consume("t-nocard", "t-nocard-1", 60).status()).isEqualTo(200);
    Eventually.await("auto top-up off", WAIT,
        () -> !app.api.get("/v1/users/t-nocard/auto-top-up").json().getBoolean("enabled"));
    assertThat(app.api.get("/v1/users/t-nocard/auto-top-up").json().getString("disabledReason"))
        .contains("no default payment method");
    assertThat(intentsFor("t-nocard")).isEmpty();
  }

  @Test
  void aCaptureThatLeavesTheBalanceLowTopsUpToo() {
    customer("t-hold");
    assertThat(app.grant("t-hold", "t-hold-g", "purchase", 300).status()).isEqualTo(201);
    assertThat(settings("t-hold", on(100, 500)).status()).isEqualTo(200);
    assertThat(app.api.post("/v1/users/t-hold/holds", new JsonObject().put("operationId", "t-hold-h").put("amount", 250))
        .status()).isEqualTo(201);
    assertThat(intentsFor("t-hold")).as("a hold spends nothing").isEmpty();
    assertThat(app.api.post("/v1/users/t-hold/holds/t-hold-h/capture", new JsonObject()
        .put("operationId", "t-hold-c").put("amount", 250)).status()).isEqualTo(200); // 50 left
    Eventually.await("the top-up granted", WAIT,
        () -> app.number("SELECT count(*) FROM grants WHERE operation_id = 'topup/t-hold/1'") == 1);
    assertThat(app.balance("t-hold").getLong("netBalance")).isEqualTo(550);
  }

  @Test
  void aPaymentFailedWebhookForTheTopUpInFlightTurnsItOff() {
    customer("t-fail");
    assertThat(app.grant("t-fail", "t-fail-g", "purchase", 300).status()).isEqualTo(201);
    assertThat(settings("t-fail", on(100, 500)).status()).isEqualTo(200);
    Eventually.await("the grant mirrored", WAIT, () -> app.number("SELECT count(*) FROM stripe_outbox "
        + "WHERE user_id = 't-fail' AND status <> 'delivered'") == 0);
    stripe.outage("POST", "/v1/payment_intents", true); // the charge stays in the outbox, in flight
    try {
      assertThat(app.consume("t-fail", "t-fail-1", 250).status()).isEqualTo(200);
      assertThat(app.api.get("/v1/users/t-fail/auto-top-up").json().getBoolean("inFlight")).isTrue();
      JsonObject intent = StripeFixtures.fixture("payment_intent").put("id", "pi_tfail").put("status",
          "requires_payment_method").put("amount", 1250).put("metadata", new JsonObject().put("userId", "t-fail")
          .put("credits", "500").put("operationId", "topup/t-fail/1").put("grantType", "purchase"))
          .put("last_payment_error", new JsonObject().put("code", "card_declined").put("message", "Declined."));
      Api.Response failed = deliver(StripeFixtures.event("payment_intent.payment_failed", intent,
          app.clock.instant().getEpochSecond()));
      assertThat(failed.status()).as(failed.toString()).isEqualTo(200);
      assertThat(failed.json().getString("outcome")).isEqualTo("auto_top_up_failed");
      JsonObject shown = app.api.get("/v1/users/t-fail/auto-top-up").json();
      assertThat(shown.getBoolean("enabled")).isFalse();
      assertThat(shown.getBoolean("inFlight")).isFalse();
      assertThat(shown.getString("disabledReason")).contains("card_declined");
      assertThat(events("auto_top_up.failed", "t-fail")).isEqualTo(1);
      // the same report again (another event id) changes nothing
      Api.Response again = deliver(StripeFixtures.event("payment_intent.payment_failed", intent,
          app.clock.instant().getEpochSecond()));
      assertThat(again.status()).isEqualTo(200);
      assertThat(events("auto_top_up.failed", "t-fail")).isEqualTo(1);
    } finally {
      stripe.outage("POST", "/v1/payment_intents", false);
    }
  }

  @Test
  void twoInstancesSpendingAtOnceStartOneTopUp() throws Exception {
    customer("t-two");
    assertThat(app.grant("t-two", "t-two-g", "purchase", 1000).status()).isEqualTo(201);
    assertThat(settings("t-two", on(900, 500)).status()).isEqualTo(200);
    try (TestApp other = TestApp.start(Map.of("FREE_GRANT_CREDITS", "0", "STRIPE_API_KEY", "sk_test_autotopup",
        "STRIPE_API_BASE", stripe.baseUrl()), app.database, app.clock)) {
      java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(8);
      try {
        List<Integer> statuses = io.creditledger.support.Together.run(threads, 16, i -> (i % 2 == 0 ? app : other)
            .consume("t-two", "t-two-" + i, 10).status());
        assertThat(statuses).containsOnly(200);
      } finally {
        threads.shutdown();
      }
      Eventually.await("the top-up granted", WAIT,
          () -> app.number("SELECT count(*) FROM grants WHERE operation_id = 'topup/t-two/1'") == 1);
      assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE user_id = 't-two' "
          + "AND action = 'create_payment_intent'")).isEqualTo(1);
      assertThat(intentsFor("t-two")).hasSize(1);
      assertThat(app.balance("t-two").getLong("netBalance")).isEqualTo(1000 - 160 + 500);
    }
  }

  static Api.Response deliver(JsonObject event) {
    String payload = event.encode();
    return app.api.withToken(null).rawWithHeader("POST", "/v1/stripe/webhook", "application/json", payload,
        "Stripe-Signature", StripeFixtures.signature(payload, SECRET, app.clock.instant().getEpochSecond()));
  }
}
