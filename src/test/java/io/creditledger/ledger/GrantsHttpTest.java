package io.creditledger.ledger;

import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class GrantsHttpTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot =
      TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "0"), started -> app = started);

  private static JsonObject grantBody(String op, String type, Object amount) {
    return new JsonObject().put("operationId", op).put("type", type).put("amount", amount);
  }

  @Test
  void eachTypeGetsItsPriorityExpiryAndCents() {
    JsonObject user = app.user("g-types", new JsonObject().put("email", "t@example.com").put("centsPerCredit", "0.5"));
    String reset = user.getString("nextQuotaReset");
    Map<String, Integer> priorities = Map.of("free", 20, "referral", 40, "rollover", 60, "purchase", 80, "admin", 100);
    for (Map.Entry<String, Integer> e : priorities.entrySet()) {
      Api.Response r = app.grant("g-types", "g-types-" + e.getKey(), e.getKey(), 3);
      assertThat(r.status()).as(r.toString()).isEqualTo(201);
      JsonObject g = r.json();
      assertThat(g.getString("type")).isEqualTo(e.getKey());
      assertThat(g.getInteger("priority")).isEqualTo(e.getValue());
      assertThat(g.getLong("principal")).isEqualTo(3);
      assertThat(g.getLong("balance")).isEqualTo(3);
      assertThat(g.getLong("cents")).as("ceil(3 x 0.5)").isEqualTo(2);
      assertThat(g.getString("centsPerCredit")).isEqualTo("0.5");
      assertThat(g.getString("state")).isEqualTo("active");
      assertThat(g.getString("expiresAt"))
          .isEqualTo(e.getKey().equals("free") || e.getKey().equals("referral") ? reset : null);
    }
    assertThat(app.balance("g-types").getLong("totalRemaining")).isEqualTo(15);
  }

  @Test
  void anExplicitExpiryWinsAndMustLieAhead() {
    app.user("g-expiry");
    Instant at = app.clock.instant().plus(Duration.ofDays(3));
    Api.Response r = app.admin.post("/v1/users/g-expiry/grants",
        grantBody("g-expiry-1", "purchase", 10).put("expiresAt", at.toString()).put("description", "promo"));
    assertThat(r.status()).isEqualTo(201);
    assertThat(r.json().getString("expiresAt")).isEqualTo(at.toString());
    assertThat(r.json().getString("description")).isEqualTo("promo");
    Api.Response past = app.admin.post("/v1/users/g-expiry/grants",
        grantBody("g-expiry-2", "purchase", 10).put("expiresAt", app.clock.instant().toString()));
    assertThat(past.status()).isEqualTo(400);
    assertThat(past.json().getJsonObject("error").getString("message")).contains("expiresAt", "future");
  }

  @Test
  void adminGrantsNeedTheAdminToken() {
    app.user("g-admin");
    Api.Response r = app.api.post("/v1/users/g-admin/grants", grantBody("g-admin-1", "admin", 10));
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.errorCode()).isEqualTo("forbidden");
    assertThat(app.api.post("/v1/users/g-admin/grants", grantBody("g-admin-2", "purchase", 10)).status())
        .isEqualTo(201);
    assertThat(app.grants("g-admin")).hasSize(1);
  }

  @Test
  void badGrantsAre400AndWriteNothing() {
    app.user("g-bad");
    Object[][] cases = {
        {grantBody("g-bad-1", "purchase", 0), "invalid_field"},
        {grantBody("g-bad-1", "purchase", -5), "invalid_field"},
        {grantBody("g-bad-1", "purchase", 1.5), "invalid_field"},
        {grantBody("g-bad-1", "purchase", "10"), "invalid_field"},
        {grantBody("g-bad-1", "purchase", 1_000_000_001L), "invalid_field"},
        {grantBody("g-bad-1", "gift", 10), "invalid_field"},
        {grantBody("g bad", "purchase", 10), "invalid_field"},
        {new JsonObject().put("type", "purchase").put("amount", 10), "missing_field"},
        {grantBody("g-bad-1", "purchase", 10).put("balance", 1000), "unknown_field"},
        {grantBody("g-bad-1", "purchase", 10).put("description", "x".repeat(501)), "invalid_field"},
        {grantBody("g-bad-1", "purchase", 10).put("expiresAt", "tomorrow"), "invalid_field"},
    };
    for (Object[] c : cases) {
      Api.Response r = app.admin.post("/v1/users/g-bad/grants", (JsonObject) c[0]);
      assertThat(r.status()).as(c[0] + " -> " + r).isEqualTo(400);
      assertThat(r.errorCode()).isEqualTo(c[1]);
    }
    assertThat(app.grants("g-bad")).isEmpty();
    Api.Response unknown = app.grant("nobody-here", "g-bad-2", "purchase", 10);
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.errorCode()).isEqualTo("user_not_found");
  }

  @Test
  void sameOperationIdSameContentReplaysDifferentContentConflicts() {
    app.user("g-idem");
    app.user("g-idem-other");
    Api.Response first = app.grant("g-idem", "g-idem-1", "purchase", 250);
    Api.Response again = app.grant("g-idem", "g-idem-1", "purchase", 250);
    assertThat(first.status()).isEqualTo(201);
    assertThat(again.status()).isEqualTo(201);
    assertThat(again.json()).isEqualTo(first.json());
    assertThat(app.grants("g-idem")).hasSize(1);
    assertThat(app.balance("g-idem").getLong("totalRemaining")).isEqualTo(250);

    assertThat(app.grant("g-idem", "g-idem-1", "purchase", 251).errorCode()).isEqualTo("operation_conflict");
    assertThat(app.grant("g-idem", "g-idem-1", "admin", 250).status()).isEqualTo(409);
    assertThat(app.grant("g-idem-other", "g-idem-1", "purchase", 250).status()).isEqualTo(409);
    assertThat(app.consume("g-idem", "g-idem-1", 250).status()).isEqualTo(409);
    assertThat(app.balance("g-idem").getLong("totalRemaining")).isEqualTo(250);
    assertThat(app.grants("g-idem-other")).isEmpty();
  }

  @Test
  void aGrantPaysTheDebtFirstAndJournalsBothSides() {
    app.user("g-debt");
    app.grant("g-debt", "g-debt-1", "free", 50);
    assertThat(app.consume("g-debt", "g-debt-c1", 150).status()).isEqualTo(200);
    JsonObject before = app.balance("g-debt");
    assertThat(before.getLong("totalDebt")).isEqualTo(100);
    assertThat(before.getLong("netBalance")).isEqualTo(-100);

    Api.Response paid = app.grant("g-debt", "g-debt-2", "purchase", 300);
    assertThat(paid.json().getLong("debtSettled")).isEqualTo(100);
    assertThat(paid.json().getLong("balance")).isEqualTo(200);
    assertThat(paid.json().getLong("principal")).isEqualTo(300);
    assertThat(paid.json().getString("description")).contains("cleared 100 credits of debt");
    JsonObject after = app.balance("g-debt");
    assertThat(after.getLong("totalDebt")).isZero();
    assertThat(after.getLong("netBalance")).isEqualTo(200);

    JsonArray journal = app.journal("g-debt");
    assertThat(journal.stream().map(e -> (JsonObject) e).filter(e -> e.getString("kind").equals("debt_settlement"))
        .map(e -> e.getString("grantOperationId") + ":" + e.getLong("delta")))
        .containsExactlyInAnyOrder("g-debt-2:-100", "g-debt-1:100");
  }

  @Test
  void revokeTakesWhatIsLeftKeepsPrincipalAndIsANoOpTheSecondTime() {
    app.user("g-revoke");
    app.grant("g-revoke", "g-revoke-free", "free", 20);
    app.grant("g-revoke", "g-revoke-p", "purchase", 100);
    app.consume("g-revoke", "g-revoke-c", 50);

    Api.Response serviceToken = app.api.post("/v1/grants/g-revoke-p/revoke", new JsonObject().put("reason", "refund"));
    assertThat(serviceToken.status()).isEqualTo(403);

    Api.Response r = app.admin.post("/v1/grants/g-revoke-p/revoke", new JsonObject().put("reason", "refund"));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.json().getLong("revoked")).isEqualTo(70);
    assertThat(r.json().getLong("balance")).isZero();
    assertThat(r.json().getLong("principal")).isEqualTo(100);
    assertThat(r.json().getString("state")).isEqualTo("revoked");
    assertThat(r.json().getString("closeReason")).isEqualTo("refund");
    assertThat(r.json().getString("description")).endsWith("[revoked: refund]");
    assertThat(app.balance("g-revoke").getLong("totalRemaining")).as("the free credits spent stay spent").isZero();

    Api.Response again = app.admin.post("/v1/grants/g-revoke-p/revoke", new JsonObject().put("reason", "again"));
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.json().getLong("revoked")).isZero();
    assertThat(again.json().getString("closeReason")).isEqualTo("refund");
    assertThat(app.journal("g-revoke").stream().filter(e -> ((JsonObject) e).getString("kind").equals("revoke")))
        .hasSize(1);

    assertThat(app.admin.post("/v1/grants/nope/revoke", new JsonObject().put("reason", "x")).status()).isEqualTo(404);
    assertThat(app.admin.post("/v1/grants/g-revoke-free/revoke", new JsonObject()).status()).isEqualTo(400);
  }

  @Test
  void aRevokedGrantNoLongerTakesPartInConsumption() {
    app.user("g-revoked-spend");
    app.grant("g-revoked-spend", "g-rs-a", "admin", 10);
    app.admin.post("/v1/grants/g-rs-a/revoke", new JsonObject().put("reason", "mistake"));
    Api.Response r = app.consume("g-revoked-spend", "g-rs-c", 5);
    assertThat(r.status()).isEqualTo(402);
    assertThat(r.errorCode()).isEqualTo("insufficient_credits");
  }

  @Test
  void grantsListNewestFirstWithPages() {
    app.user("g-list");
    for (int i = 1; i <= 5; i++) {
      app.grant("g-list", "g-list-" + i, "purchase", i);
    }
    JsonObject page1 = app.api.get("/v1/users/g-list/grants?limit=2").json();
    assertThat(page1.getJsonArray("grants").stream().map(g -> ((JsonObject) g).getString("operationId")))
        .containsExactly("g-list-5", "g-list-4");
    long next = page1.getLong("nextBefore");
    JsonObject page2 = app.api.get("/v1/users/g-list/grants?limit=2&before=" + next).json();
    assertThat(page2.getJsonArray("grants").stream().map(g -> ((JsonObject) g).getString("operationId")))
        .containsExactly("g-list-3", "g-list-2");
    JsonObject page3 = app.api.get("/v1/users/g-list/grants?limit=2&before=" + page2.getLong("nextBefore")).json();
    assertThat(page3.getJsonArray("grants")).hasSize(1);
    assertThat(page3.getValue("nextBefore")).isNull();
    assertThat(app.api.get("/v1/users/g-list/grants?limit=abc").status()).isEqualTo(400);
    assertThat(app.api.get("/v1/users/g-list/grants?limit=0").status()).isEqualTo(400);
    assertThat(app.api.get("/v1/users/nobody/grants").status()).isEqualTo(404);
  }
}
