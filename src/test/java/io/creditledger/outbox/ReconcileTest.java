package io.creditledger.outbox;

import io.creditledger.Main;
import io.creditledger.support.Api;
import io.creditledger.support.FakeStripe;
import io.creditledger.support.MutableClock;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.creditledger.support.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Reconciliation against Stripe itself: each kind of drift, injected behind the ledger's back, found and repaired. */
class ReconcileTest {
  static final Duration PATIENCE = Duration.ofSeconds(30);
  static final Instant START = Instant.parse("2026-08-01T12:00:00Z");

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

  void start() {
    MutableClock clock = MutableClock.ticking(START);
    stripe = FakeStripe.start(clock);
    app = TestApp.start(new HashMap<>(Map.of(
        "FREE_GRANT_CREDITS", "0",
        "STRIPE_API_KEY", "sk_test_reconcile",
        "STRIPE_API_BASE", stripe.baseUrl(),
        "STRIPE_OUTBOX_POLL_INTERVAL", "PT0.2S",
        "STRIPE_BACKOFF_BASE", "PT0.05S",
        "STRIPE_BACKOFF_MAX", "PT0.3S",
        "STRIPE_TIMEOUT", "PT2S")), TestDatabase.fresh(), clock);
  }

  void drained() {
    await("the outbox drained", PATIENCE,
        () -> app.number("SELECT count(*) FROM stripe_outbox WHERE status = 'pending'") == 0);
  }

  String mirror(String operationId) {
    return app.text("SELECT stripe_grant_id FROM grants WHERE operation_id = '" + operationId + "'");
  }

  JsonObject reconcile(JsonObject body) {
    Api.Response r = app.admin.post("/v1/admin/stripe/reconcile", body);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  static Set<String> kinds(JsonObject run) {
    Set<String> out = new HashSet<>();
    JsonArray drift = run.getJsonArray("drift");
    for (int i = 0; i < drift.size(); i++) {
      JsonObject d = drift.getJsonObject(i);
      out.add(d.getString("kind") + ":" + d.getString("operationId"));
    }
    return out;
  }

  @Test
  void everyKindOfDriftIsFoundAndRepairMendsIt() {
    start();
    app.user("rc", new JsonObject().put("email", "rc@example.com").put("stripeCustomerId", "cus_rc"));
    for (String g : List.of("rc-missing", "rc-voided", "rc-amount", "rc-expiry", "rc-fine")) {
      assertThat(app.grant("rc", g, "purchase", 100).status()).isEqualTo(201);
    }
    drained();
    assertThat(reconcile(new JsonObject()).getJsonArray("drift")).as("in step to begin with").isEmpty();

    stripe.deleteCreditGrant(mirror("rc-missing"));
    stripe.voidCreditGrant(mirror("rc-voided"));
    stripe.setCreditGrantAmount(mirror("rc-amount"), 55);
    stripe.setCreditGrantExpiry(mirror("rc-expiry"), START.plusSeconds(86_400).getEpochSecond());
    JsonObject ghost = stripe.putCreditGrant(new JsonObject().put("customer", "cus_rc").put("category", "paid")
        .put("amount", new JsonObject().put("type", "monetary")
            .put("monetary", new JsonObject().put("currency", "usd").put("value", 999)))
        .put("metadata", new JsonObject().put("operationId", "rc-ghost").put("userId", "rc")));

    JsonObject found = reconcile(new JsonObject().put("userId", "rc"));

    assertThat(found.getInteger("checked")).isEqualTo(1);
    assertThat(kinds(found)).containsExactlyInAnyOrder("missing_in_stripe:rc-missing", "voided_mismatch:rc-voided",
        "amount_mismatch:rc-amount", "expiry_mismatch:rc-expiry", "unknown_in_stripe:rc-ghost");
    JsonObject amount = found.getJsonArray("drift").stream().map(o -> (JsonObject) o)
        .filter(d -> d.getString("kind").equals("amount_mismatch")).findFirst().orElseThrow();
    assertThat(amount.getJsonObject("local").getLong("amountCents")).isEqualTo(100);
    assertThat(amount.getJsonObject("stripe").getLong("amountCents")).isEqualTo(55);
    assertThat(amount.getString("userId")).isEqualTo("rc");
    assertThat(app.admin.get("/v1/admin/stripe/reconcile").json().getJsonArray("drift")).as("the last run is kept")
        .isEqualTo(found.getJsonArray("drift"));
    assertThat(Main.reconcile(app.config, List.of("rc"))).as("the jar command exits 1 on drift").isEqualTo(1);

    JsonObject repaired = reconcile(new JsonObject().put("repair", true));
    assertThat(repaired.getBoolean("repaired")).isTrue();
    drained();
    reconcile(new JsonObject().put("repair", true)); // a second repair of the same drift queues nothing new
    drained();

    assertThat(reconcile(new JsonObject()).getJsonArray("drift")).as("nothing left after the repair").isEmpty();
    assertThat(Main.reconcile(app.config, List.of())).as("and the jar command agrees").isZero();
    assertThat(stripe.creditGrant(ghost.getString("id")).getValue("voided_at")).as("voided, never deleted").isNotNull();
    JsonObject restored = stripe.creditGrant(mirror("rc-missing"));
    assertThat(restored.getJsonObject("amount").getJsonObject("monetary").getLong("value")).isEqualTo(100);
    assertThat(stripe.creditGrant(mirror("rc-amount")).getJsonObject("amount").getJsonObject("monetary")
        .getLong("value")).isEqualTo(100);
    assertThat(stripe.creditGrant(mirror("rc-expiry")).getValue("expires_at")).isNull();
    assertThat(stripe.creditGrant(mirror("rc-voided")).getValue("voided_at")).isNull();
    assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE idempotency_key LIKE 'ledger-create-rc-missing-restore-%'"))
        .as("one restore, however often repaired").isEqualTo(1);
  }

  @Test
  void withoutAStripeKeyThereIsNothingToReconcileWith() {
    app = TestApp.start(Map.of());
    Api.Response r = app.admin.post("/v1/admin/stripe/reconcile", new JsonObject());
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.errorCode()).isEqualTo("stripe_not_configured");
    assertThat(app.api.post("/v1/admin/stripe/reconcile", new JsonObject()).status()).as("admin only").isEqualTo(403);
  }
}
