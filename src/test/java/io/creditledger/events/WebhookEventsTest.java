package io.creditledger.events;

import io.creditledger.api.LedgerClient;
import io.creditledger.api.LedgerEvent;
import io.creditledger.support.Api;
import io.creditledger.support.Eventually;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.creditledger.support.WebhookReceiver;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Events out to the host: webhook endpoints (admin), Standard Webhooks deliveries checked by a receiver on loopback
 * with the reference library, retries with the same id, dead deliveries and their retry, events only for what
 * committed, and the event bus.
 */
class WebhookEventsTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of(
      "FREE_GRANT_CREDITS", "0",
      "LOW_BALANCE_THRESHOLD", "100",
      "EVENTS_POLL_INTERVAL", "PT0.1S",
      "WEBHOOK_BACKOFF_BASE", "PT0.1S",
      "WEBHOOK_BACKOFF_MAX", "PT0.2S",
      "WEBHOOK_MAX_ATTEMPTS", "3",
      "EVENTS_RETENTION", "P1D"), started -> app = started);

  private static final Duration WAIT = Duration.ofSeconds(15);

  /** Registers an endpoint for {@code events} at the receiver; answers the secret shown. */
  private static String endpoint(String endpointId, WebhookReceiver receiver, String... events) {
    Api.Response put = app.admin.put("/v1/admin/webhook-endpoints/" + endpointId,
        new JsonObject().put("url", receiver.url()).put("events", new JsonArray(List.of((Object[]) events))));
    assertThat(put.status()).as(put.toString()).isEqualTo(201);
    String secret = put.json().getString("secret");
    receiver.secret(secret);
    return secret;
  }

  /** {@code done}, else the clock moves on by a second: a retry is due by the ledger's clock, which tests hold still. */
  private static boolean later(boolean done) {
    if (!done) {
      app.clock.advance(Duration.ofSeconds(1));
    }
    return done;
  }

  private static List<WebhookReceiver.Delivery> about(WebhookReceiver receiver, String type, String userId) {
    return receiver.ofType(type).stream().filter(d -> userId.equals(d.data().getString("userId"))).toList();
  }

  @Test
  void grantsAndConsumptionsRaiseSignedEventsOncePerCrossing() {
    try (WebhookReceiver receiver = new WebhookReceiver()) {
      endpoint("ev-main", receiver, "grant.created", "balance.low", "balance.debt");
      app.user("ev-a");
      Api.Response grant = app.grant("ev-a", "ev-a-g", "purchase", 150);
      assertThat(app.consume("ev-a", "ev-a-1", 40).status()).isEqualTo(200); // 110: still at or above 100
      assertThat(app.consume("ev-a", "ev-a-2", 20).status()).isEqualTo(200); // 90: crossed below
      assertThat(app.consume("ev-a", "ev-a-3", 20).status()).isEqualTo(200); // 70: still below, no new crossing
      assertThat(app.consume("ev-a", "ev-a-4", 100).status()).isEqualTo(200); // 30 in debt

      Eventually.await("grant.created, balance.low and balance.debt delivered", WAIT, () ->
          about(receiver, "grant.created", "ev-a").size() == 1 && about(receiver, "balance.low", "ev-a").size() == 1
              && about(receiver, "balance.debt", "ev-a").size() == 1);
      WebhookReceiver.Delivery created = about(receiver, "grant.created", "ev-a").get(0);
      assertThat(created.signatureValid()).isTrue();
      assertThat(created.id()).startsWith("evt_");
      assertThat(created.timestamp()).isEqualTo(app.clock.instant().getEpochSecond());
      assertThat(created.json().fieldNames()).containsExactlyInAnyOrder("type", "timestamp", "accountType",
          "accountId", "data");
      assertThat(created.json().getString("accountType")).isEqualTo("user");
      assertThat(created.json().getString("accountId")).isEqualTo("ev-a");
      assertThat(created.data().getString("operationId")).isEqualTo("ev-a-g");
      assertThat(created.data().getLong("principal")).isEqualTo(150);
      assertThat(created.data().getLong("grantId")).isEqualTo(grant.json().getLong("grantId"));

      WebhookReceiver.Delivery low = about(receiver, "balance.low", "ev-a").get(0);
      assertThat(low.signatureValid()).isTrue();
      assertThat(low.data().getString("operationId")).isEqualTo("ev-a-2");
      assertThat(low.data().getLong("threshold")).isEqualTo(100);
      assertThat(low.data().getJsonObject("balance").getLong("netBalance")).isEqualTo(90);

      WebhookReceiver.Delivery debt = about(receiver, "balance.debt", "ev-a").get(0);
      assertThat(debt.data().getString("operationId")).isEqualTo("ev-a-4");
      assertThat(debt.data().getLong("debtIncurred")).isEqualTo(30);
      assertThat(debt.data().getJsonObject("balance").getLong("totalDebt")).isEqualTo(30);
      assertThat(receiver.received()).allMatch(WebhookReceiver.Delivery::signatureValid);
      // the same event ids as stored, and none delivered twice
      assertThat(receiver.received().stream().map(WebhookReceiver.Delivery::id).distinct().count())
          .isEqualTo(receiver.received().size());
      assertThat(app.number("SELECT count(*) FROM events WHERE user_id = 'ev-a'")).isEqualTo(3);
    } finally {
      app.admin.delete("/v1/admin/webhook-endpoints/ev-main");
    }
  }

  @Test
  void aReceiverOnTheWallClockVerifiesWithTheReferenceLibrary() {
    Instant was = app.clock.instant();
    app.clock.set(Instant.now());
    try (WebhookReceiver receiver = new WebhookReceiver()) {
      String secret = endpoint("ev-wall", receiver, "grant.created");
      app.user("ev-w");
      app.grant("ev-w", "ev-w-g", "admin", 5);
      Eventually.await("the grant's event", WAIT, () -> about(receiver, "grant.created", "ev-w").size() == 1);
      WebhookReceiver.Delivery d = about(receiver, "grant.created", "ev-w").get(0);
      assertThat(WebhookReceiver.verifies(secret, d)).isTrue();
      WebhookReceiver.Delivery tampered = new WebhookReceiver.Delivery(d.id(), d.timestamp(), d.signature(),
          d.body().replace("\"principal\":5", "\"principal\":500"), false, 200);
      assertThat(WebhookReceiver.verifies(secret, tampered)).isFalse();
    } finally {
      app.clock.set(was);
      app.admin.delete("/v1/admin/webhook-endpoints/ev-wall");
    }
  }

  @Test
  void aFailedDeliveryIsRetriedWithTheSameIdThenDeadThenRetriedByHand() {
    try (WebhookReceiver receiver = new WebhookReceiver()) {
      endpoint("ev-retry", receiver, "grant.created");
      receiver.answer(500);
      app.user("ev-r");
      app.grant("ev-r", "ev-r-g1", "admin", 5);
      Eventually.await("a retry after the 500", WAIT, () -> later(about(receiver, "grant.created", "ev-r").size() == 2));
      List<WebhookReceiver.Delivery> attempts = about(receiver, "grant.created", "ev-r");
      assertThat(attempts.get(0).answered()).isEqualTo(500);
      assertThat(attempts.get(1).answered()).isEqualTo(200);
      assertThat(attempts.get(1).id()).isEqualTo(attempts.get(0).id());
      assertThat(attempts.get(1).body()).isEqualTo(attempts.get(0).body());
      assertThat(attempts).allMatch(WebhookReceiver.Delivery::signatureValid);
      Eventually.await("marked delivered", WAIT, () -> app.number(
          "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = 'ev-retry' AND status = 'delivered'") == 1);

      receiver.otherwise(503);
      app.grant("ev-r", "ev-r-g2", "admin", 5);
      Eventually.await("dead after 3 attempts", WAIT, () -> later(app.number(
          "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = 'ev-retry' AND status = 'dead'") == 1));
      assertThat(about(receiver, "grant.created", "ev-r")).hasSize(5);
      JsonObject dead = app.admin.get("/v1/admin/outbox/webhooks?status=dead").json().getJsonArray("deliveries")
          .stream().map(JsonObject.class::cast).filter(d -> "ev-retry".equals(d.getString("endpointId")))
          .findFirst().orElseThrow();
      assertThat(dead.getInteger("attempts")).isEqualTo(3);
      assertThat(dead.getString("lastError")).isEqualTo("HTTP 503");
      assertThat(dead.getString("type")).isEqualTo("grant.created");

      receiver.otherwise(200);
      Api.Response retried = app.admin.post("/v1/admin/outbox/webhooks/" + dead.getLong("deliveryId") + "/retry",
          new JsonObject());
      assertThat(retried.status()).as(retried.toString()).isEqualTo(200);
      assertThat(retried.json().getString("status")).isEqualTo("pending");
      Eventually.await("delivered after the retry", WAIT, () -> about(receiver, "grant.created", "ev-r").size() == 6);
      Eventually.await("marked delivered", WAIT, () -> app.number(
          "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = 'ev-retry' AND status = 'delivered'") == 2);
      Api.Response again = app.admin.post("/v1/admin/outbox/webhooks/" + dead.getLong("deliveryId") + "/retry",
          new JsonObject());
      assertThat(again.status()).isEqualTo(409);
      assertThat(again.errorCode()).isEqualTo("already_delivered");
      assertThat(app.admin.post("/v1/admin/outbox/webhooks/999999999/retry", new JsonObject()).errorCode())
          .isEqualTo("webhook_delivery_not_found");
    } finally {
      app.admin.delete("/v1/admin/webhook-endpoints/ev-retry");
    }
  }

  @Test
  void aTransactionThatRolledBackRaisedNothing() {
    app.sql("CREATE FUNCTION ev_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "IF NEW.operation_id LIKE 'ev-boom-%' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$");
    app.sql("CREATE TRIGGER ev_boom BEFORE INSERT ON journal FOR EACH ROW EXECUTE FUNCTION ev_boom()");
    try (WebhookReceiver receiver = new WebhookReceiver()) {
      endpoint("ev-rollback", receiver, "balance.low", "grant.created");
      app.user("ev-b");
      app.grant("ev-b", "ev-b-g", "purchase", 150);
      assertThat(app.consume("ev-b", "ev-boom-1", 60).status()).isEqualTo(500); // would have crossed below 100
      assertThat(app.grant("ev-b", "ev-boom-g", "admin", 10).status()).isEqualTo(500);
      assertThat(app.consume("ev-b", "ev-b-1", 60).status()).isEqualTo(200); // crosses for real
      Eventually.await("the crossing that committed", WAIT, () -> about(receiver, "balance.low", "ev-b").size() == 1);
      assertThat(about(receiver, "balance.low", "ev-b").get(0).data().getString("operationId")).isEqualTo("ev-b-1");
      assertThat(about(receiver, "grant.created", "ev-b")).hasSize(1);
      assertThat(app.number("SELECT count(*) FROM events WHERE data::text LIKE '%ev-boom-%'")).isZero();
    } finally {
      app.sql("DROP TRIGGER ev_boom ON journal");
      app.sql("DROP FUNCTION ev_boom()");
      app.admin.delete("/v1/admin/webhook-endpoints/ev-rollback");
    }
  }

  @Test
  void revokesAndResetsRaiseTheirEventsAndTheBusCarriesEveryEvent() {
    List<LedgerEvent> seen = new CopyOnWriteArrayList<>();
    MessageConsumer<JsonObject> consumer = new LedgerClient(app.vertx).subscribe(seen::add);
    Instant was = app.clock.instant();
    try (WebhookReceiver receiver = new WebhookReceiver()) {
      endpoint("ev-life", receiver, "grant.revoked", "reset.completed");
      app.user("ev-c");
      app.grant("ev-c", "ev-c-g", "purchase", 50);
      assertThat(app.admin.post("/v1/grants/ev-c-g/revoke", new JsonObject().put("reason", "refunded")).status())
          .isEqualTo(200);
      Eventually.await("grant.revoked", WAIT, () -> about(receiver, "grant.revoked", "ev-c").size() == 1);
      JsonObject revoked = about(receiver, "grant.revoked", "ev-c").get(0).data();
      assertThat(revoked.getString("operationId")).isEqualTo("ev-c-g");
      assertThat(revoked.getLong("revoked")).isEqualTo(50);
      assertThat(revoked.getString("state")).isEqualTo("revoked");

      app.clock.advance(Duration.ofDays(32));
      assertThat(app.admin.post("/v1/admin/resets/run", new JsonObject()).status()).isEqualTo(200);
      Eventually.await("reset.completed", WAIT, () -> about(receiver, "reset.completed", "ev-c").size() == 1);
      assertThat(about(receiver, "reset.completed", "ev-c").get(0).data().getBoolean("reset")).isTrue();

      // the bus saw each of the user's events, with the ids the webhooks carried
      Eventually.await("the bus", WAIT, () -> seen.stream().filter(e -> "ev-c".equals(e.userId())).count() == 3);
      List<LedgerEvent> mine = seen.stream().filter(e -> "ev-c".equals(e.userId())).toList();
      assertThat(mine).extracting(LedgerEvent::type)
          .containsExactly("grant.created", "grant.revoked", "reset.completed");
      assertThat(mine.get(1).eventId()).isEqualTo(about(receiver, "grant.revoked", "ev-c").get(0).id());
      assertThat(mine.get(1).data()).isEqualTo(revoked);
      assertThat(mine).allSatisfy(e -> {
        assertThat(e.accountType()).isEqualTo("user");
        assertThat(e.accountId()).isEqualTo("ev-c");
      });
    } finally {
      consumer.unregister();
      app.clock.set(was);
      app.admin.delete("/v1/admin/webhook-endpoints/ev-life");
    }
  }

  @Test
  void aGrantThatExpiresWithCreditsLeftSaysHowMany() {
    app.user("ev-x");
    Api.Response grant = app.api.post("/v1/users/ev-x/grants", new JsonObject().put("operationId", "ev-x-g")
        .put("type", "purchase").put("amount", 80).put("expiresAt", app.clock.instant().plus(Duration.ofHours(1))
            .toString()));
    assertThat(grant.status()).as(grant.toString()).isEqualTo(201);
    assertThat(app.grant("ev-x", "ev-x-g2", "purchase", 100).status()).isEqualTo(201);
    assertThat(app.consume("ev-x", "ev-x-1", 30).status()).isEqualTo(200);
    Instant was = app.clock.instant();
    app.clock.advance(Duration.ofHours(2));
    try {
      assertThat(app.consume("ev-x", "ev-x-2", 1).status()).isEqualTo(200); // the consumption journals the expiry
      long left = 80 - Math.max(0, app.number("SELECT -coalesce(sum(delta), 0) FROM journal j JOIN grants g "
          + "ON g.grant_id = j.grant_id WHERE g.operation_id = 'ev-x-g' AND j.kind = 'consume'"));
      JsonObject data = new JsonObject(app.text("SELECT data::text FROM events WHERE type = 'grant.expired' "
          + "AND user_id = 'ev-x'"));
      assertThat(data.getString("operationId")).isEqualTo("ev-x-g");
      assertThat(data.getLong("expired")).isEqualTo(left).isPositive();
      assertThat(data.getLong("grantId")).isEqualTo(grant.json().getLong("grantId"));
      assertThat(app.number("SELECT count(*) FROM events WHERE type = 'grant.expired' AND user_id = 'ev-x'"))
          .isEqualTo(1);
    } finally {
      app.clock.set(was);
    }
  }

  @Test
  void eventsPastTheirRetentionGoOnceNothingIsOwedForThem() {
    try (WebhookReceiver ok = new WebhookReceiver(); WebhookReceiver failing = new WebhookReceiver()) {
      endpoint("ev-keep-ok", ok, "grant.created");
      app.user("ev-p1");
      app.grant("ev-p1", "ev-p1-g", "admin", 5);
      Eventually.await("delivered", WAIT, () -> app.number("SELECT count(*) FROM webhook_deliveries d JOIN events e "
          + "ON e.seq = d.event_seq WHERE e.user_id = 'ev-p1' AND d.status = 'delivered'") == 1);
      failing.otherwise(503);
      endpoint("ev-keep-failing", failing, "grant.created");
      app.user("ev-p2");
      app.grant("ev-p2", "ev-p2-g", "admin", 5);
      Eventually.await("owed to the failing endpoint", WAIT, () -> failing.received().size() >= 1);
      app.sql("UPDATE events SET created_at = created_at - interval '2 days' WHERE user_id IN ('ev-p1', 'ev-p2')");

      Eventually.await("the delivered event pruned", Duration.ofSeconds(20),
          () -> app.number("SELECT count(*) FROM events WHERE user_id = 'ev-p1'") == 0);
      assertThat(app.number("SELECT count(*) FROM webhook_deliveries d WHERE NOT EXISTS "
          + "(SELECT 1 FROM events e WHERE e.seq = d.event_seq)")).isZero();
      assertThat(app.number("SELECT count(*) FROM events WHERE user_id = 'ev-p2'"))
          .as("an event still owed to an endpoint stays").isEqualTo(1);
    } finally {
      app.admin.delete("/v1/admin/webhook-endpoints/ev-keep-ok");
      app.admin.delete("/v1/admin/webhook-endpoints/ev-keep-failing");
    }
  }

  @Test
  void endpointsAreAdminsAndTheirSecretIsShownOnce() {
    String url = "https://hooks.example.com/ledger";
    Api.Response created = app.admin.put("/v1/admin/webhook-endpoints/ev-admin",
        new JsonObject().put("url", url).put("events", new JsonArray().add("grant.created")));
    assertThat(created.status()).isEqualTo(201);
    String secret = created.json().getString("secret");
    assertThat(secret).startsWith("whsec_");
    assertThat(java.util.Base64.getDecoder().decode(secret.substring(6))).hasSize(32);

    Api.Response updated = app.admin.put("/v1/admin/webhook-endpoints/ev-admin",
        new JsonObject().put("url", url).put("events", new JsonArray().add("grant.created").add("balance.low")));
    assertThat(updated.status()).isEqualTo(200);
    assertThat(updated.json().containsKey("secret")).isFalse();
    assertThat(app.text("SELECT secret FROM webhook_endpoints WHERE endpoint_id = 'ev-admin'")).isEqualTo(secret);
    JsonObject listed = app.admin.get("/v1/admin/webhook-endpoints").json().getJsonArray("endpoints").stream()
        .map(JsonObject.class::cast).filter(e -> "ev-admin".equals(e.getString("endpointId"))).findFirst()
        .orElseThrow();
    assertThat(listed.containsKey("secret")).isFalse();
    assertThat(listed.getJsonArray("events")).containsExactly("grant.created", "balance.low");

    String given = "whsec_" + java.util.Base64.getEncoder().encodeToString(new byte[24]);
    Api.Response rotated = app.admin.put("/v1/admin/webhook-endpoints/ev-admin",
        new JsonObject().put("url", url).put("events", new JsonArray().add("grant.created")).put("secret", given));
    assertThat(rotated.json().getString("secret")).isEqualTo(given);

    assertThat(app.api.get("/v1/admin/webhook-endpoints").status()).isEqualTo(403);
    assertThat(bad(new JsonObject().put("url", "ftp://x").put("events", new JsonArray().add("grant.created"))))
        .isEqualTo("invalid_field");
    assertThat(bad(new JsonObject().put("url", url).put("events", new JsonArray().add("grant.eaten"))))
        .isEqualTo("invalid_field");
    assertThat(bad(new JsonObject().put("url", url).put("events", new JsonArray()))).isEqualTo("invalid_field");
    assertThat(bad(new JsonObject().put("url", url))).isEqualTo("missing_field");
    assertThat(bad(new JsonObject().put("url", url).put("events", new JsonArray().add("grant.created"))
        .put("secret", "whsec_short"))).isEqualTo("invalid_field");

    assertThat(app.admin.delete("/v1/admin/webhook-endpoints/ev-admin").status()).isEqualTo(200);
    Api.Response gone = app.admin.delete("/v1/admin/webhook-endpoints/ev-admin");
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.errorCode()).isEqualTo("webhook_endpoint_not_found");
  }

  private static String bad(JsonObject body) {
    Api.Response r = app.admin.put("/v1/admin/webhook-endpoints/ev-bad", body);
    assertThat(r.status()).as(r.toString()).isEqualTo(400);
    return r.errorCode();
  }
}
