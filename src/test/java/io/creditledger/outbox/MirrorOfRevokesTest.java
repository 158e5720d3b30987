package io.creditledger.outbox;

import io.creditledger.support.Api;
import io.creditledger.support.FakeStripe;
import io.creditledger.support.MutableClock;
import io.creditledger.support.StripeFixtures;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.creditledger.support.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What Stripe sees of revokes, through the relay and the fake Stripe: a partial revoke voids the Stripe grant and
 * creates a replacement worth what is left, also when the credits had rolled over; and a create whose first attempt
 * is older than Stripe's 24-hour idempotency window is looked up before it is sent again.
 */
class MirrorOfRevokesTest {
  static final Duration PATIENCE = Duration.ofSeconds(30);
  static final String SECRET = "whsec_test_mirror_0123456789";
  static final Instant START = Instant.parse("2026-06-01T09:00:00Z");

  FakeStripe stripe;
  TestApp app;

  @AfterEach
  void stop() {
    if (app != null) {
      app.close();
    }
    if (stripe != null) {
      stripe.close();
    }
  }

  void start(MutableClock clock, String... overrides) {
    stripe = FakeStripe.start(clock);
    Map<String, String> settings = new HashMap<>(Map.of(
        "FREE_GRANT_CREDITS", "0",
        "RESET_CYCLE", "P1D",
        "RESET_SCAN_INTERVAL", "PT1H",
        "STRIPE_API_KEY", "sk_test_mirror",
        "STRIPE_API_BASE", stripe.baseUrl(),
        "STRIPE_WEBHOOK_SECRET", SECRET,
        "STRIPE_OUTBOX_POLL_INTERVAL", "PT0.2S",
        "STRIPE_BACKOFF_BASE", "PT0.05S",
        "STRIPE_BACKOFF_MAX", "PT0.3S",
        "STRIPE_TIMEOUT", "PT2S"));
    for (int i = 0; i < overrides.length; i += 2) {
      settings.put(overrides[i], overrides[i + 1]);
    }
    app = TestApp.start(settings, TestDatabase.fresh(), clock);
  }

  void mirroredUser(String userId) {
    app.user(userId, new JsonObject().put("email", userId + "@example.com").put("stripeCustomerId", "cus_" + userId));
  }

  JsonObject grant(String userId, String operationId) {
    JsonArray all = app.grants(userId);
    for (int i = 0; i < all.size(); i++) {
      if (all.getJsonObject(i).getString("operationId").equals(operationId)) {
        return all.getJsonObject(i);
      }
    }
    throw new AssertionError("no grant " + operationId);
  }

  void drained() {
    await("the outbox drained", PATIENCE,
        () -> app.number("SELECT count(*) FROM stripe_outbox WHERE status <> 'delivered'") == 0);
  }

  String refund(String paymentIntent, long amount, long refunded) {
    JsonObject charge = StripeFixtures.fixture("charge").put("id", "ch_" + paymentIntent)
        .put("payment_intent", paymentIntent).put("amount", amount).put("amount_refunded", refunded)
        .put("refunded", refunded >= amount);
    String payload = StripeFixtures.event("charge.refunded", charge, app.clock.instant().getEpochSecond()).encode();
    Api.Response r = app.api.withToken(null).rawWithHeader("POST", "/v1/stripe/webhook", "application/json", payload,
        "Stripe-Signature", StripeFixtures.signature(payload, SECRET, app.clock.instant().getEpochSecond()));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().getString("outcome");
  }

  void buy(String userId, String paymentIntent, long credits, String operationId) {
    JsonObject session = StripeFixtures.fixture("checkout.session").put("payment_status", "paid").put("status", "complete")
        .put("payment_intent", paymentIntent).put("metadata", new JsonObject().put("userId", userId)
            .put("credits", Long.toString(credits)).put("operationId", operationId));
    String payload = StripeFixtures.event("checkout.session.completed", session, app.clock.instant().getEpochSecond()).encode();
    Api.Response r = app.api.withToken(null).rawWithHeader("POST", "/v1/stripe/webhook", "application/json", payload,
        "Stripe-Signature", StripeFixtures.signature(payload, SECRET, app.clock.instant().getEpochSecond()));
    assertThat(r.json().getString("outcome")).isEqualTo("granted");
  }

  List<JsonObject> stripeGrantsOf(String customer) {
    return stripe.creditGrants().stream().filter(g -> customer.equals(g.getString("customer"))).toList();
  }

  static long cents(JsonObject stripeGrant) {
    return stripeGrant.getJsonObject("amount").getJsonObject("monetary").getLong("value");
  }

  @Test
  void aPartialRefundVoidsTheStripeGrantAndReplacesItWithWhatIsLeft() {
    start(MutableClock.ticking(START));
    mirroredUser("mp");
    buy("mp", "pi_mp", 1000, "mp-order");
    drained();
    String first = grant("mp", "mp-order").getJsonObject("stripe").getString("stripeGrantId");

    assertThat(refund("pi_mp", 1000, 300)).isEqualTo("revoked:300");
    drained();

    JsonObject local = grant("mp", "mp-order");
    String replacement = local.getJsonObject("stripe").getString("stripeGrantId");
    assertThat(replacement).isNotEqualTo(first);
    assertThat(local.getJsonObject("stripe").getBoolean("voided")).isFalse();
    assertThat(stripe.creditGrant(first).getValue("voided_at")).as("the original is voided").isNotNull();
    JsonObject live = stripe.creditGrant(replacement);
    assertThat(live.getValue("voided_at")).isNull();
    assertThat(cents(live)).as("what is left").isEqualTo(700);
    assertThat(cents(stripe.creditGrant(first))).as("voided and live add up with the refunded 300").isEqualTo(700 + 300);
    assertThat(live.getJsonObject("metadata").getString("operationId")).isEqualTo("mp-order");

    assertThat(refund("pi_mp", 1000, 1000)).isEqualTo("revoked_all:700");
    drained();
    assertThat(stripe.creditGrant(replacement).getValue("voided_at")).as("a full refund voids the replacement").isNotNull();
    assertThat(stripeGrantsOf("cus_mp")).hasSize(2).allMatch(g -> g.getValue("voided_at") != null);
  }

  @Test
  void aRefundAfterARolloverReplacesTheRolloversStripeGrant() {
    MutableClock clock = MutableClock.ticking(START);
    start(clock);
    mirroredUser("mr");
    buy("mr", "pi_mr", 600, "mr-order");
    app.grant("mr", "mr-older", "purchase", 400);
    drained();
    String boundary = app.api.get("/v1/users/mr").json().getString("nextQuotaReset");
    clock.set(START.plusSeconds(86_400 + 60));
    JsonObject rollover = grant("mr", "rollover/mr/" + boundary);
    drained();
    assertThat(rollover.getLong("principal")).isEqualTo(1000);
    String rolloverMirror = grant("mr", rollover.getString("operationId")).getJsonObject("stripe").getString("stripeGrantId");

    assertThat(refund("pi_mr", 600, 600)).isEqualTo("revoked_all:600");
    drained();

    JsonObject after = grant("mr", rollover.getString("operationId"));
    assertThat(after.getLong("balance")).isEqualTo(400);
    assertThat(stripe.creditGrant(rolloverMirror).getValue("voided_at")).isNotNull();
    JsonObject live = stripe.creditGrant(after.getJsonObject("stripe").getString("stripeGrantId"));
    assertThat(live.getValue("voided_at")).isNull();
    assertThat(cents(live)).isEqualTo(400);
  }

  @Test
  void aCreateOlderThanStripesKeyWindowIsLookedUpAndAdoptedInsteadOfSentAgain() {
    MutableClock clock = new MutableClock(START);
    // backoff of an hour: the retry comes only after the clock has moved past the key window
    start(clock, "STRIPE_BACKOFF_BASE", "PT1H", "STRIPE_BACKOFF_MAX", "PT2H");
    mirroredUser("mw");
    stripe.dropNext(1, true); // Stripe makes the grant, the answer is lost
    app.grant("mw", "mw-g", "purchase", 250);
    await("Stripe made the grant", PATIENCE, () -> stripeGrantsOf("cus_mw").size() == 1);
    await("the relay counted a failed attempt", PATIENCE,
        () -> app.number("SELECT attempts FROM stripe_outbox WHERE idempotency_key = 'ledger-create-mw-g'") == 1);
    assertThat(grant("mw", "mw-g").getJsonObject("stripe").getString("state")).isEqualTo("pending");

    clock.advance(Duration.ofHours(25)); // Stripe has forgotten the key by now
    drained();

    assertThat(stripeGrantsOf("cus_mw")).as("adopted, not created twice").hasSize(1);
    assertThat(grant("mw", "mw-g").getJsonObject("stripe").getString("stripeGrantId"))
        .isEqualTo(stripeGrantsOf("cus_mw").get(0).getString("id"));
    assertThat(stripe.requests().stream().filter(r -> r.method().equals("GET")
        && r.path().equals("/v1/billing/credit_grants"))).as("it listed the customer's grants").isNotEmpty();
  }
}
