package io.creditledger.ledger;

import io.creditledger.support.Api;
import io.creditledger.support.ContractCheck;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ConsumeHttpTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot =
      TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "0"), started -> app = started);

  @Test
  void originalScenarioFree500Of300AndPurchase1000Of800() {
    app.user("c-orig");
    app.grant("c-orig", "c-orig-p", "purchase", 1000);
    assertThat(app.consume("c-orig", "c-orig-c1", 200).json().getLong("fromPurchased")).isEqualTo(200);
    app.grant("c-orig", "c-orig-f", "free", 500);
    Api.Response second = app.consume("c-orig", "c-orig-c2", 200);
    assertThat(second.json().getLong("fromPurchased")).as("free is spent before purchase").isZero();

    JsonObject b = app.balance("c-orig");
    assertThat(b.getLong("totalRemaining")).isEqualTo(1100);
    assertThat(b.getLong("usageThisCycle")).isEqualTo(400);
    assertThat(b.getLong("totalDebt")).isZero();
    assertThat(b.getLong("netBalance")).isEqualTo(1100);
    assertThat(b.getJsonObject("breakdown").getLong("free")).isEqualTo(300);
    assertThat(b.getJsonObject("breakdown").getLong("purchase")).isEqualTo(800);
    assertThat(b.getJsonObject("principals").getLong("free")).isEqualTo(500);
    assertThat(b.getJsonObject("principals").getLong("purchase")).isEqualTo(1000);
    assertThat(second.json().getJsonObject("balance")).isEqualTo(b);
  }

  @Test
  void consumptionFollowsPriorityAndReportsFromPurchased() {
    app.user("c-order");
    app.grant("c-order", "c-order-admin", "admin", 100);
    app.grant("c-order", "c-order-purchase", "purchase", 100);
    app.grant("c-order", "c-order-rollover", "rollover", 100);
    app.grant("c-order", "c-order-referral", "referral", 100);
    app.grant("c-order", "c-order-free", "free", 100);
    Api.Response r = app.consume("c-order", "c-order-c", 350);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getLong("consumed")).isEqualTo(350);
    assertThat(r.json().getLong("fromPurchased")).isEqualTo(50);
    JsonObject breakdown = r.json().getJsonObject("balance").getJsonObject("breakdown");
    assertThat(breakdown.getLong("free")).isZero();
    assertThat(breakdown.getLong("referral")).isZero();
    assertThat(breakdown.getLong("rollover")).isZero();
    assertThat(breakdown.getLong("purchase")).isEqualTo(50);
    assertThat(breakdown.getLong("admin")).isEqualTo(100);
  }

  @Test
  void debtUpToMaxDebtThenEverythingBlocks() {
    app.user("c-debt");
    app.grant("c-debt", "c-debt-g", "free", 50);
    Api.Response r = app.consume("c-debt", "c-debt-c1", 150);
    assertThat(r.status()).isEqualTo(200);
    JsonObject b = app.balance("c-debt");
    assertThat(b.getLong("totalDebt")).isEqualTo(100);
    assertThat(b.getLong("netBalance")).isEqualTo(-100);
    assertThat(b.getLong("totalRemaining")).isZero();

    Api.Response blocked = app.consume("c-debt", "c-debt-c2", 1);
    assertThat(blocked.status()).isEqualTo(402);
    assertThat(blocked.errorCode()).isEqualTo("debt_outstanding");
    assertThat(app.balance("c-debt")).isEqualTo(b);
  }

  @Test
  void beyondMaxDebtNothingChanges() {
    app.user("c-over");
    app.grant("c-over", "c-over-g", "purchase", 50);
    JsonObject before = app.balance("c-over");
    JsonArray journalBefore = app.journal("c-over");
    Api.Response r = app.consume("c-over", "c-over-c", 151);
    assertThat(r.status()).isEqualTo(402);
    assertThat(r.errorCode()).isEqualTo("insufficient_credits");
    assertThat(app.balance("c-over")).isEqualTo(before);
    assertThat(app.journal("c-over")).isEqualTo(journalBefore);
    assertThat(app.consume("c-over", "c-over-c", 150).status()).as("the refused operationId is not used up")
        .isEqualTo(200);
  }

  @Test
  void noGrantsAtAllIsRefused() {
    app.user("c-none");
    Api.Response r = app.consume("c-none", "c-none-c", 1);
    assertThat(r.status()).isEqualTo(402);
    assertThat(r.errorCode()).isEqualTo("insufficient_credits");
    assertThat(app.consume("nobody", "c-none-c2", 1).status()).isEqualTo(404);
  }

  @Test
  void anExpiredGrantStopsCountingAndItsExpiryIsJournalled() {
    app.user("c-exp");
    app.admin.post("/v1/users/c-exp/grants", new JsonObject().put("operationId", "c-exp-short").put("type", "admin")
        .put("amount", 100).put("expiresAt", app.clock.instant().plus(Duration.ofHours(1)).toString()));
    app.grant("c-exp", "c-exp-long", "purchase", 30);
    assertThat(app.balance("c-exp").getLong("totalRemaining")).isEqualTo(130);
    app.clock.advance(Duration.ofHours(2));
    try {
      JsonObject b = app.balance("c-exp");
      assertThat(b.getLong("totalRemaining")).isEqualTo(30);
      assertThat(b.getJsonObject("breakdown").getLong("admin")).isZero();
      assertThat(b.getJsonObject("principals").getLong("admin")).isZero();
      Api.Response r = app.consume("c-exp", "c-exp-c", 10);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.json().getLong("fromPurchased")).isEqualTo(10);
      JsonObject expiry = app.journal("c-exp").stream().map(e -> (JsonObject) e)
          .filter(e -> e.getString("kind").equals("expiry")).findFirst().orElseThrow();
      assertThat(expiry.getString("grantOperationId")).isEqualTo("c-exp-short");
      assertThat(expiry.getLong("delta")).isEqualTo(-100);
      assertThat(expiry.getLong("balanceAfter")).isZero();
    } finally {
      app.clock.advance(Duration.ofHours(-2));
    }
  }

  @Test
  void consumeIsIdempotentByOperationId() {
    app.user("c-idem");
    app.grant("c-idem", "c-idem-g", "purchase", 100);
    Api.Response first = app.consume("c-idem", "c-idem-c", 30);
    Api.Response again = app.consume("c-idem", "c-idem-c", 30);
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.json()).isEqualTo(first.json());
    assertThat(app.balance("c-idem").getLong("totalRemaining")).isEqualTo(70);
    assertThat(app.balance("c-idem").getLong("usageThisCycle")).isEqualTo(30);
    Api.Response conflict = app.consume("c-idem", "c-idem-c", 31);
    assertThat(conflict.status()).isEqualTo(409);
    assertThat(conflict.errorCode()).isEqualTo("operation_conflict");
    assertThat(app.text("SELECT jsonb_typeof(response) FROM operations WHERE operation_id = 'c-idem-c'"))
        .isEqualTo("object");
    assertThat(app.number("SELECT (response->>'consumed')::bigint FROM operations WHERE operation_id = 'c-idem-c'"))
        .isEqualTo(30);
  }

  @Test
  void answersStoredAsJsonStringsStillReplay() {
    // how answers were stored before they went in as JSON text: a jsonb string holding the JSON
    app.user("c-old");
    app.grant("c-old", "c-old-g", "purchase", 100);
    Api.Response first = app.consume("c-old", "c-old-c", 7);
    app.sql("UPDATE operations SET response = to_jsonb(response::text) WHERE operation_id = 'c-old-c'");
    assertThat(app.text("SELECT jsonb_typeof(response) FROM operations WHERE operation_id = 'c-old-c'"))
        .isEqualTo("string");
    Api.Response again = app.consume("c-old", "c-old-c", 7);
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.json()).isEqualTo(first.json());
    assertThat(app.balance("c-old").getLong("totalRemaining")).isEqualTo(93);
  }

  @Test
  void replayedAnswersAreMarked() throws Exception {
    app.user("c-replay");
    app.grant("c-replay", "c-replay-g", "purchase", 10);
    var client = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpResponse<String> replay = null;
    for (int i = 0; i < 2; i++) {
      replay = ContractCheck.checked(client.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create("http://127.0.0.1:" + app.ledger.httpPort() + "/v1/users/c-replay/consume"))
          .header("Authorization", "Bearer " + TestApp.SERVICE_TOKEN).header("Content-Type", "application/json")
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"operationId\":\"c-replay-c\",\"amount\":1}"))
          .build(), java.net.http.HttpResponse.BodyHandlers.ofString()));
      assertThat(replay.headers().firstValue("Idempotent-Replayed").isPresent()).isEqualTo(i == 1);
    }
  }

  @Test
  void badConsumptionsAre400AndChangeNothing() {
    app.user("c-bad");
    app.grant("c-bad", "c-bad-g", "purchase", 100);
    Object[] amounts = {0, -1, 2.5, "5", 1_000_000_001L, null};
    for (Object amount : amounts) {
      Api.Response r = app.api.post("/v1/users/c-bad/consume",
          new JsonObject().put("operationId", "c-bad-c").put("amount", amount));
      assertThat(r.status()).as(amount + " -> " + r).isEqualTo(400);
    }
    assertThat(app.api.post("/v1/users/c-bad/consume", new JsonObject().put("operationId", "c-bad-c")
        .put("amount", 5).put("fromGrant", "c-bad-g")).errorCode()).isEqualTo("unknown_field");
    assertThat(app.balance("c-bad").getLong("totalRemaining")).isEqualTo(100);
  }

  @Test
  void theJournalExplainsEveryBalanceNewestFirstInPages() {
    app.user("c-journal");
    app.grant("c-journal", "c-journal-f", "free", 100);
    app.grant("c-journal", "c-journal-p", "purchase", 100);
    app.consume("c-journal", "c-journal-c1", 150);
    app.consume("c-journal", "c-journal-c2", 10);
    JsonArray all = app.journal("c-journal");
    assertThat(all.stream().map(e -> ((JsonObject) e).getString("kind") + ":"
        + ((JsonObject) e).getString("grantOperationId") + ":" + ((JsonObject) e).getLong("delta")))
        .containsExactly("consume:c-journal-p:-10", "consume:c-journal-p:-50", "consume:c-journal-f:-100",
            "grant:c-journal-p:100", "grant:c-journal-f:100");
    long sum = all.stream().mapToLong(e -> ((JsonObject) e).getLong("delta")).sum();
    assertThat(sum).isEqualTo(app.balance("c-journal").getLong("netBalance"));

    JsonObject page = app.api.get("/v1/users/c-journal/ledger?limit=2").json();
    assertThat(page.getJsonArray("entries")).hasSize(2);
    JsonObject rest = app.api.get("/v1/users/c-journal/ledger?limit=10&before=" + page.getLong("nextBefore")).json();
    assertThat(rest.getJsonArray("entries")).hasSize(3);
    assertThat(rest.getValue("nextBefore")).isNull();
    assertThat(app.api.get("/v1/users/nobody/ledger").status()).isEqualTo(404);
  }
}
