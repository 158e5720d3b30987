package io.creditledger.outbox;

import io.creditledger.support.FakeStripe;
import io.creditledger.support.MutableClock;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestDatabase;
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

/** Consumption of mirrored users reaches Stripe as meter events, through the outbox, exactly once each. */
class MeterEventsTest {
  static final Duration PATIENCE = Duration.ofSeconds(30);
  static final String METER = "ledger_credits";
  static final Instant START = Instant.parse("2026-07-01T12:00:00Z");

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
        "STRIPE_API_KEY", "sk_test_meter",
        "STRIPE_API_BASE", stripe.baseUrl(),
        "STRIPE_METER_EVENT_NAME", METER,
        "STRIPE_OUTBOX_POLL_INTERVAL", "PT0.2S",
        "STRIPE_BACKOFF_BASE", "PT0.05S",
        "STRIPE_BACKOFF_MAX", "PT0.3S",
        "STRIPE_TIMEOUT", "PT2S",
        "STRIPE_MAX_ATTEMPTS", "50"));
    for (int i = 0; i < overrides.length; i += 2) {
      settings.put(overrides[i], overrides[i + 1]);
    }
    app = TestApp.start(settings, TestDatabase.fresh(), clock);
  }

  void mirroredUser(String userId, long credits) {
    app.user(userId, new JsonObject().put("email", userId + "@example.com").put("stripeCustomerId", "cus_" + userId));
    app.grant(userId, userId + "-credits", "purchase", credits);
  }

  void drained() {
    await("the outbox drained", PATIENCE,
        () -> app.number("SELECT count(*) FROM stripe_outbox WHERE status = 'pending'") == 0);
  }

  List<JsonObject> eventsOf(String customer) {
    return stripe.meterEvents().stream()
        .filter(e -> customer.equals(e.getJsonObject("payload").getString("stripe_customer_id"))).toList();
  }

  @Test
  void eachConsumptionOfAMirroredUserBecomesOneMeterEvent() {
    MutableClock clock = MutableClock.ticking(START);
    start(clock);
    mirroredUser("mu", 1000);
    app.user("local-only");
    app.grant("local-only", "local-only-credits", "purchase", 100);

    assertThat(app.consume("mu", "mu-c1", 10).status()).isEqualTo(200);
    assertThat(app.consume("mu", "mu-c2", 25).status()).isEqualTo(200);
    assertThat(app.consume("mu", "mu-c3", 40).status()).isEqualTo(200);
    assertThat(app.consume("local-only", "local-only-c", 5).status()).isEqualTo(200);
    drained();

    List<JsonObject> events = eventsOf("cus_mu");
    assertThat(events).extracting(e -> e.getString("identifier")).containsExactlyInAnyOrder("mu-c1", "mu-c2", "mu-c3");
    assertThat(events).allMatch(e -> e.getString("event_name").equals(METER));
    assertThat(stripe.meterTotal("cus_mu", METER)).isEqualTo(75);
    JsonObject first = events.stream().filter(e -> e.getString("identifier").equals("mu-c1")).findFirst().orElseThrow();
    assertThat(first.getJsonObject("payload").getString("value")).isEqualTo("10");
    assertThat(Math.abs(first.getLong("timestamp") - START.getEpochSecond())).as("the consumption's time").isLessThan(30);
    assertThat(stripe.meterEvents()).as("a user without a Stripe customer is not reported").hasSize(3);
    assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE action = 'report_usage' AND status = 'delivered' "
        + "AND stripe_object_id IN ('mu-c1', 'mu-c2', 'mu-c3')")).as("delivered under the event's identifier").isEqualTo(3);
    assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE action = 'report_usage' "
        + "AND payload->>'identifier' IN ('mu-c1', 'mu-c2', 'mu-c3')")).as("stored as a JSON object").isEqualTo(3);
  }

  @Test
  void aLostAnswerOrAForgottenKeyNeverReportsUsageTwice() {
    MutableClock clock = MutableClock.ticking(START);
    start(clock, "STRIPE_BACKOFF_BASE", "PT1S", "STRIPE_BACKOFF_MAX", "PT2S");
    mirroredUser("ml", 500);

    stripe.dropNext(1, true); // Stripe takes the event, the answer is lost
    app.consume("ml", "ml-lost", 7);
    await("Stripe counted it", PATIENCE, () -> eventsOf("cus_ml").size() == 1);
    drained(); // the resend under the same key gets Stripe's stored answer
    assertThat(eventsOf("cus_ml")).hasSize(1);

    stripe.dropNext(1, true);
    app.consume("ml", "ml-forgotten", 9);
    await("Stripe counted it", PATIENCE, () -> eventsOf("cus_ml").size() == 2);
    stripe.forgetIdempotencyKeys(); // as if the resend came more than 24 hours later, or from another instance
    drained(); // Stripe refuses the identifier as used: the usage is reported, not reported again

    assertThat(eventsOf("cus_ml")).hasSize(2);
    assertThat(stripe.meterTotal("cus_ml", METER)).isEqualTo(16);
    assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE action = 'report_usage' AND status = 'delivered'"))
        .isEqualTo(2);
  }

  @Test
  void usageStripeWouldRefuseAsTooOldGoesDeadWithTheReason() {
    MutableClock clock = new MutableClock(START);
    start(clock);
    mirroredUser("mo", 500);
    stripe.outage(true);
    app.consume("mo", "mo-c", 3);
    await("an attempt failed", PATIENCE,
        () -> app.number("SELECT attempts FROM stripe_outbox WHERE action = 'report_usage'") >= 1);

    clock.advance(Duration.ofDays(36));
    stripe.outage(false);
    await("the report is dead", PATIENCE,
        () -> "dead".equals(app.text("SELECT status FROM stripe_outbox WHERE action = 'report_usage'")));

    assertThat(app.text("SELECT last_error FROM stripe_outbox WHERE action = 'report_usage'")).contains("35 days");
    assertThat(stripe.meterEvents()).isEmpty();
  }

  @Test
  void withoutAMeterEventNameNoUsageIsReported() {
    start(MutableClock.ticking(START), "STRIPE_METER_EVENT_NAME", "");
    mirroredUser("mn", 100);
    app.consume("mn", "mn-c", 5);
    drained();
    assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE action = 'report_usage'")).isZero();
    assertThat(stripe.meterEvents()).isEmpty();
  }
}
