package io.creditledger.outbox;

import io.creditledger.support.Api;
import io.creditledger.support.FakeStripe;
import io.creditledger.support.MutableClock;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.creditledger.support.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The outbox and its relay against the fake Stripe: local-first grants reach Stripe exactly once. */
@Tag("slow")
class OutboxRelayTest {
  static final Duration PATIENCE = Duration.ofSeconds(30);

  FakeStripe stripe;
  TestApp app;
  final List<TestApp> others = new ArrayList<>();

  @BeforeEach
  void boot() {
    stripe = FakeStripe.start();
  }

  @AfterEach
  void stop() {
    others.forEach(TestApp::close);
    if (app != null) {
      app.close();
    }
    stripe.close();
  }

  Map<String, String> settings(String... overrides) {
    Map<String, String> s = new HashMap<>(Map.of(
        "FREE_GRANT_CREDITS", "0",
        "STRIPE_API_KEY", "sk_test_relay",
        "STRIPE_API_BASE", stripe.baseUrl(),
        "STRIPE_OUTBOX_POLL_INTERVAL", "PT0.2S",
        "STRIPE_BACKOFF_BASE", "PT0.05S",
        "STRIPE_BACKOFF_MAX", "PT0.3S",
        "STRIPE_TIMEOUT", "PT0.5S",
        "STRIPE_MAX_ATTEMPTS", "30",
        "STRIPE_MAX_REQUESTS_PER_SECOND", "500",
        "STRIPE_OUTBOX_LEASE", "PT2S"));
    for (int i = 0; i < overrides.length; i += 2) {
      s.put(overrides[i], overrides[i + 1]);
    }
    return s;
  }

  void start(String... overrides) {
    app = TestApp.start(settings(overrides), TestDatabase.fresh(),
        MutableClock.ticking(Instant.parse("2026-01-15T10:00:00Z")));
  }

  void mirroredUser(String userId) {
    app.user(userId, new JsonObject().put("email", userId + "@example.com").put("stripeCustomerId", "cus_" + userId.replace("-", ""))
        .put("centsPerCredit", "0.5"));
  }

  JsonObject grantView(String userId, String operationId) {
    JsonArray grants = app.grants(userId);
    for (int i = 0; i < grants.size(); i++) {
      if (grants.getJsonObject(i).getString("operationId").equals(operationId)) {
        return grants.getJsonObject(i);
      }
    }
    throw new AssertionError("no grant " + operationId);
  }

  String syncState(String userId, String operationId) {
    return grantView(userId, operationId).getJsonObject("stripe").getString("state");
  }

  @Test
  void aGrantReachesStripeWithItsAmountCategoryExpiryAndMetadataWokenByNotify() {
    // a poll of a minute: only LISTEN/NOTIFY can make the relay send within the wait below
    start("STRIPE_OUTBOX_POLL_INTERVAL", "PT60S");
    mirroredUser("o-e2e");
    JsonObject user = app.api.get("/v1/users/o-e2e").json();
    app.grant("o-e2e", "o-e2e-buy", "purchase", 1001);
    app.grant("o-e2e", "o-e2e-free", "free", 10);
    await("both grants synced", Duration.ofSeconds(5),
        () -> syncState("o-e2e", "o-e2e-buy").equals("synced") && syncState("o-e2e", "o-e2e-free").equals("synced"));

    JsonObject local = grantView("o-e2e", "o-e2e-buy");
    JsonObject remote = stripe.creditGrant(local.getJsonObject("stripe").getString("stripeGrantId"));
    assertThat(remote.getString("customer")).isEqualTo("cus_oe2e");
    assertThat(remote.getJsonObject("amount").getJsonObject("monetary").getLong("value")).as("ceil(1001 x 0.5)")
        .isEqualTo(501);
    assertThat(remote.getJsonObject("amount").getJsonObject("monetary").getString("currency")).isEqualTo("usd");
    assertThat(remote.getString("category")).isEqualTo("paid");
    assertThat(remote.getInteger("priority")).isEqualTo(80);
    assertThat(remote.getValue("expires_at")).isNull();
    assertThat(remote.getJsonObject("metadata").getString("operationId")).isEqualTo("o-e2e-buy");
    assertThat(remote.getJsonObject("metadata").getString("userId")).isEqualTo("o-e2e");

    JsonObject free = stripe.creditGrant(grantView("o-e2e", "o-e2e-free").getJsonObject("stripe").getString("stripeGrantId"));
    assertThat(free.getString("category")).isEqualTo("promotional");
    assertThat(free.getInteger("priority")).isEqualTo(20);
    assertThat(free.getLong("expires_at")).isEqualTo(Instant.parse(user.getString("nextQuotaReset")).getEpochSecond());
    assertThat(stripe.createCount("ledger-create-o-e2e-buy")).isEqualTo(1);
  }

  @Test
  void usersWithoutAStripeCustomerAreNotMirrored() {
    start();
    app.user("o-local");
    app.grant("o-local", "o-local-g", "purchase", 10);
    assertThat(syncState("o-local", "o-local-g")).isEqualTo("not_mirrored");
    assertThat(app.number("SELECT count(*) FROM stripe_outbox")).isZero();
  }

  @Test
  void theOutboxRowIsAtomicWithTheGrant() {
    start();
    mirroredUser("o-atomic");
    // every write to the journal of this grant fails: the whole transaction, outbox row included, rolls back
    app.sql("CREATE FUNCTION fail_journal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "IF NEW.operation_id = 'o-atomic-g' THEN RAISE EXCEPTION 'injected' USING ERRCODE = '40001'; END IF; "
        + "RETURN NEW; END $$");
    app.sql("CREATE TRIGGER fail_journal BEFORE INSERT ON journal FOR EACH ROW EXECUTE FUNCTION fail_journal()");
    Api.Response r = app.grant("o-atomic", "o-atomic-g", "purchase", 10);
    assertThat(r.status()).isEqualTo(503);
    assertThat(app.number("SELECT count(*) FROM grants WHERE operation_id = 'o-atomic-g'")).isZero();
    assertThat(app.number("SELECT count(*) FROM stripe_outbox")).isZero();
    app.sql("DROP TRIGGER fail_journal ON journal");
    assertThat(app.grant("o-atomic", "o-atomic-g", "purchase", 10).status()).isEqualTo(201);
    assertThat(app.number("SELECT count(*) FROM stripe_outbox")).isEqualTo(1);
  }

  @Test
  void faultsTimeoutsAndARateLimitBurstStillSyncEveryGrantExactlyOnce() {
    start();
    stripe.randomFaults(0.3, 0.1, 900, 42);
    stripe.rateLimitNext(5, 1);
    mirroredUser("o-chaos");
    int n = 40;
    for (int i = 0; i < n; i++) {
      assertThat(app.grant("o-chaos", "o-chaos-" + i, "purchase", 10 + i).status()).isEqualTo(201);
    }
    await("all grants synced", PATIENCE, () -> app.number("SELECT count(*) FROM grants WHERE stripe_grant_id IS NOT NULL") == n);
    stripe.clearFaults();
    for (int i = 0; i < n; i++) {
      assertThat(stripe.createCount("ledger-create-o-chaos-" + i)).as("grant " + i).isEqualTo(1);
    }
    assertThat(stripe.creditGrants()).hasSize(n);
    assertThat(stripe.requests().stream().filter(r -> r.status() == 429)).hasSize(5);
    assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE status <> 'delivered'")).isZero();
    JsonArray grants = app.grants("o-chaos");
    for (int i = 0; i < grants.size(); i++) {
      JsonObject g = grants.getJsonObject(i);
      assertThat(g.getJsonObject("stripe").getString("state")).isEqualTo("synced");
      assertThat(stripe.creditGrant(g.getJsonObject("stripe").getString("stripeGrantId"))
          .getJsonObject("metadata").getString("operationId")).isEqualTo(g.getString("operationId"));
    }
  }

  @Test
  void aRateLimitPausesTheWholeRelayForRetryAfter() {
    start();
    stripe.rateLimitNext(1, 1);
    mirroredUser("o-429");
    app.grant("o-429", "o-429-0", "purchase", 10);
    // once the relay has recorded the 429, nothing more goes out before Retry-After (calls already in flight when
    // the 429 came could not be called back)
    await("the 429 recorded", PATIENCE, () -> app.number("SELECT attempts FROM stripe_outbox") == 1);
    for (int i = 1; i < 5; i++) {
      app.grant("o-429", "o-429-" + i, "purchase", 10);
    }
    await("all synced", PATIENCE, () -> app.number("SELECT count(*) FROM grants WHERE stripe_grant_id IS NOT NULL") == 5);
    List<FakeStripe.Recorded> requests = stripe.requests();
    FakeStripe.Recorded limited = requests.stream().filter(r -> r.status() == 429).findFirst().orElseThrow();
    List<FakeStripe.Recorded> later = requests.subList(requests.indexOf(limited) + 1, requests.size());
    assertThat(later).isNotEmpty();
    assertThat(later).allSatisfy(r -> assertThat(r.receivedAtNanos() - limited.receivedAtNanos())
        .as("sent after Retry-After: 1").isGreaterThanOrEqualTo(Duration.ofMillis(950).toNanos()));
  }

  @Test
  void theRelayStaysUnderItsRequestRate() {
    start("STRIPE_MAX_REQUESTS_PER_SECOND", "10");
    mirroredUser("o-rate");
    for (int i = 0; i < 15; i++) {
      app.grant("o-rate", "o-rate-" + i, "purchase", 10);
    }
    await("all synced", PATIENCE, () -> app.number("SELECT count(*) FROM grants WHERE stripe_grant_id IS NOT NULL") == 15);
    List<FakeStripe.Recorded> requests = stripe.requests();
    assertThat(requests).hasSize(15);
    // measured where the fake receives them, so a request the busy machine delayed on its way can land up to
    // one interval (100 ms at 10/s) closer to the next one than the limiter spaced them
    for (int i = 10; i < requests.size(); i++) {
      assertThat(requests.get(i).receivedAtNanos() - requests.get(i - 10).receivedAtNanos())
          .as("any 11 consecutive requests span at least a second, less one interval of jitter")
          .isGreaterThanOrEqualTo(Duration.ofMillis(900).toNanos());
    }
  }

  @Test
  void aRowIsDeadAfterItsAttemptsAndAnAdminRetryDeliversIt() {
    start("STRIPE_MAX_ATTEMPTS", "3");
    stripe.outage(true);
    mirroredUser("o-dead");
    app.grant("o-dead", "o-dead-g", "purchase", 10);
    await("the row is dead", PATIENCE, () -> app.number("SELECT count(*) FROM stripe_outbox WHERE status = 'dead'") == 1);
    assertThat(syncState("o-dead", "o-dead-g")).isEqualTo("dead");

    Api.Response service = app.api.get("/v1/admin/outbox?status=dead");
    assertThat(service.status()).isEqualTo(403);
    JsonArray dead = app.admin.get("/v1/admin/outbox?status=dead").json().getJsonArray("rows");
    assertThat(dead).hasSize(1);
    JsonObject row = dead.getJsonObject(0);
    assertThat(row.getString("grantOperationId")).isEqualTo("o-dead-g");
    assertThat(row.getInteger("attempts")).isEqualTo(3);
    assertThat(row.getString("lastError")).contains("503");
    assertThat(app.admin.get("/v1/admin/outbox?status=lost").status()).isEqualTo(400);

    stripe.outage(false);
    long id = row.getLong("outboxId");
    Api.Response retried = app.admin.post("/v1/admin/outbox/" + id + "/retry", new JsonObject());
    assertThat(retried.status()).as(retried.toString()).isEqualTo(200);
    assertThat(retried.json().getString("status")).isEqualTo("pending");
    await("delivered after the retry", PATIENCE, () -> syncState("o-dead", "o-dead-g").equals("synced"));
    assertThat(stripe.creditGrants()).hasSize(1);
    assertThat(app.admin.post("/v1/admin/outbox/" + id + "/retry", new JsonObject()).errorCode())
        .isEqualTo("already_delivered");
    assertThat(app.admin.post("/v1/admin/outbox/999999/retry", new JsonObject()).status()).isEqualTo(404);
    assertThat(app.admin.post("/v1/admin/outbox/abc/retry", new JsonObject()).status()).isEqualTo(400);
  }

  @Test
  void theRelayKeepsToStripeConcurrencyConnectionsAcrossManyDeliveries() {
    start("STRIPE_CONCURRENCY", "3");
    stripe.latency(10); // calls overlap: a client opening a connection per call in flight would show here
    mirroredUser("o-conn");
    int n = 60;
    for (int i = 0; i < n; i++) {
      assertThat(app.grant("o-conn", "o-conn-" + i, "purchase", 5).status()).isEqualTo(201);
    }
    await("all synced", PATIENCE, () -> app.number("SELECT count(*) FROM grants WHERE stripe_grant_id IS NOT NULL") == n);
    assertThat(stripe.requests()).hasSize(n);
    assertThat(stripe.connections()).isBetween(1, 3);
  }

  @Test
  void deliveriesAreMarkedManyToAStatementEachRowOnceAndFailedSendsAreRetried() {
    // the grants are written while no relay runs (no API key), so that the relay finds them all due at once
    Map<String, String> noRelay = settings();
    noRelay.remove("STRIPE_API_KEY");
    MutableClock clock = MutableClock.ticking(Instant.parse("2026-01-15T10:00:00Z"));
    TestApp writer = TestApp.start(noRelay, TestDatabase.fresh(), clock);
    others.add(writer);
    writer.user("o-batch", new JsonObject().put("email", "o-batch@example.com").put("stripeCustomerId", "cus_obatch"));
    int n = 60;
    for (int i = 0; i < n; i++) {
      assertThat(writer.grant("o-batch", "o-batch-" + i, "purchase", 5).status()).isEqualTo(201);
    }
    // a log of how many rows each statement marks delivered; a mark takes 50 ms, so that deliveries arriving
    // meanwhile queue for the next one
    writer.sql("CREATE TABLE marks (n bigint NOT NULL)");
    writer.sql("CREATE FUNCTION log_marks() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE k bigint; BEGIN "
        + "SELECT count(*) INTO k FROM new_rows n JOIN old_rows o USING (outbox_id) "
        + "WHERE n.status = 'delivered' AND o.status <> 'delivered'; "
        + "IF k > 0 THEN INSERT INTO marks VALUES (k); PERFORM pg_sleep(0.05); END IF; RETURN NULL; END $$");
    writer.sql("CREATE TRIGGER log_marks AFTER UPDATE ON stripe_outbox REFERENCING OLD TABLE AS old_rows "
        + "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION log_marks()");
    stripe.latency(20);
    stripe.randomFaults(0.25, 0, 0, 7);

    app = TestApp.start(settings("STRIPE_CONCURRENCY", "8"), writer.database, clock);
    await("all synced", PATIENCE, () -> app.number("SELECT count(*) FROM grants WHERE stripe_grant_id IS NOT NULL") == n);
    stripe.clearFaults();

    assertThat(stripe.requests().stream().filter(r -> r.status() == 500)).as("some sends failed").isNotEmpty();
    for (int i = 0; i < n; i++) {
      String key = "ledger-create-o-batch-" + i;
      assertThat(stripe.createCount(key)).as(key).isEqualTo(1);
      long sends = stripe.requests().stream().filter(r -> key.equals(r.idempotencyKey())).count();
      assertThat(app.number("SELECT attempts FROM stripe_outbox WHERE idempotency_key = '" + key + "'"))
          .as("every send of " + key + " counted once: its failures and its delivery").isEqualTo(sends);
    }
    assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE status = 'delivered'")).isEqualTo(n);
    assertThat(app.number("SELECT sum(n) FROM marks")).as("each row marked delivered once").isEqualTo(n);
    assertThat(app.number("SELECT max(n) FROM marks")).as("rows marked together").isGreaterThan(1);
    assertThat(app.number("SELECT count(*) FROM marks")).as("fewer statements than rows").isLessThan(n);
  }

  @Test
  void twoRelaysOnOneDatabaseSendEachRowOnce() {
    start();
    MutableClock clock = MutableClock.ticking(Instant.parse("2026-01-15T10:00:00Z"));
    others.add(TestApp.start(settings(), app.database, clock));
    mirroredUser("o-two");
    int n = 60;
    for (int i = 0; i < n; i++) {
      TestApp via = i % 2 == 0 ? app : others.get(0);
      assertThat(via.grant("o-two", "o-two-" + i, "purchase", 5).status()).isEqualTo(201);
    }
    await("all synced", PATIENCE, () -> app.number("SELECT count(*) FROM grants WHERE stripe_grant_id IS NOT NULL") == n);
    for (int i = 0; i < n; i++) {
      String key = "ledger-create-o-two-" + i;
      assertThat(stripe.requests().stream().filter(r -> key.equals(r.idempotencyKey()))).as(key).hasSize(1);
    }
    assertThat(stripe.creditGrants()).hasSize(n);
  }

  @Test
  void aRelayThatDiesAfterStripeAnsweredResendsWithTheSameKeyAndStripeKeepsOneGrant() {
    start();
    // the first time the relay records a delivery, its transaction dies, as if the process had been killed
    // between Stripe's answer and the database update; the row stays claimed until its lease runs out
    app.sql("CREATE SEQUENCE deliveries");
    app.sql("CREATE FUNCTION die_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "IF NEW.status = 'delivered' AND OLD.status = 'pending' AND nextval('deliveries') = 1 THEN "
        + "RAISE EXCEPTION 'relay died' USING ERRCODE = 'XX000'; END IF; RETURN NEW; END $$");
    app.sql("CREATE TRIGGER die_once BEFORE UPDATE ON stripe_outbox FOR EACH ROW EXECUTE FUNCTION die_once()");
    mirroredUser("o-crash");
    app.grant("o-crash", "o-crash-g", "purchase", 10);
    await("synced after the lease ran out", PATIENCE, () -> syncState("o-crash", "o-crash-g").equals("synced"));
    String key = "ledger-create-o-crash-g";
    assertThat(stripe.requests().stream().filter(r -> key.equals(r.idempotencyKey()))).hasSize(2);
    assertThat(stripe.createCount(key)).isEqualTo(1);
    assertThat(stripe.creditGrants()).hasSize(1);
    assertThat(grantView("o-crash", "o-crash-g").getJsonObject("stripe").getString("stripeGrantId"))
        .isEqualTo(stripe.creditGrants().get(0).getString("id"));
  }

  @Test
  void aRevokeVoidsTheStripeGrantButNeverBeforeItsCreate() {
    start();
    stripe.outage(true);
    mirroredUser("o-void");
    app.grant("o-void", "o-void-g", "purchase", 10);
    app.admin.post("/v1/grants/o-void-g/revoke", new JsonObject().put("reason", "refund"));
    await("both rows tried", PATIENCE, () -> stripe.requests().size() >= 3);
    assertThat(stripe.requests()).allMatch(r -> r.path().equals("/v1/billing/credit_grants"),
        "only the create is tried while it is undelivered");
    stripe.outage(false);
    await("voided", PATIENCE, () -> grantView("o-void", "o-void-g").getJsonObject("stripe").getBoolean("voided"));
    List<FakeStripe.Recorded> delivered = stripe.requests().stream().filter(r -> r.status() == 200).toList();
    assertThat(delivered).extracting(FakeStripe.Recorded::path).containsExactly("/v1/billing/credit_grants",
        "/v1/billing/credit_grants/" + stripe.creditGrants().get(0).getString("id") + "/void");
    assertThat(stripe.creditGrants().get(0).getValue("voided_at")).isNotNull();
    assertThat(syncState("o-void", "o-void-g")).isEqualTo("synced");
  }

  @Test
  void deliveredRowsArePrunedAfterTheRetentionAndTheGrantStaysSynced() {
    start("STRIPE_OUTBOX_RETENTION", "PT1S");
    mirroredUser("o-prune");
    app.grant("o-prune", "o-prune-g", "purchase", 10);
    await("synced", PATIENCE, () -> syncState("o-prune", "o-prune-g").equals("synced"));
    await("pruned", PATIENCE, () -> app.number("SELECT count(*) FROM stripe_outbox") == 0);
    assertThat(syncState("o-prune", "o-prune-g")).isEqualTo("synced");
  }
}
