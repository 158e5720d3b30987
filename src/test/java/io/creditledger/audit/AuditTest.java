package io.creditledger.audit;

import io.creditledger.Main;
import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class AuditTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot =
      TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "50", "MAX_DEBT", "100"), started -> app = started);

  @AfterAll
  static void mend() {
    // this class breaks the ledger on purpose; mend it so the after-class journal check sees it whole
    app.sql("UPDATE grants SET balance = balance - 7 WHERE operation_id = 'a-broken-g'");
  }

  static JsonObject audit(String query) {
    Api.Response r = app.admin.get("/v1/admin/audit" + query);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  static List<String> problems(JsonObject report) {
    JsonArray p = report.getJsonArray("problems");
    return p.stream().map(o -> ((JsonObject) o).getString("check") + ": " + ((JsonObject) o).getString("problem")).toList();
  }

  @Test
  void aHealthyLedgerIsCleanAndEachKindOfDamageIsNamed() {
    app.user("a-clean");
    app.grant("a-clean", "a-clean-g", "purchase", 100);
    app.consume("a-clean", "a-clean-c", 120);
    app.user("a-broken");
    app.grant("a-broken", "a-broken-g", "purchase", 100);
    app.consume("a-broken", "a-broken-c", 10);
    JsonObject clean = audit("");
    assertThat(problems(clean)).isEmpty();
    assertThat(clean.getBoolean("ok")).isTrue();
    assertThat(app.api.get("/v1/admin/audit").status()).isEqualTo(403);
    assertThat(Main.audit(app.config, null)).as("the audit command agrees").isZero();

    app.sql("UPDATE grants SET balance = balance + 7 WHERE operation_id = 'a-broken-g'");
    app.sql("UPDATE users SET usage_this_cycle = usage_this_cycle + 3 WHERE user_id = 'a-broken'");
    app.sql("UPDATE grants SET stripe_customer_id = 'cus_ghost' WHERE operation_id = 'a-broken-g'");
    try {
      List<String> found = problems(audit(""));
      assertThat(found).anyMatch(p -> p.startsWith("journal: grant a-broken-g: balance 107 but principal 100 and journal sum 100"));
      assertThat(found).anyMatch(p -> p.startsWith("usage: user a-broken: usage this cycle 13 but consumptions"));
      assertThat(found).anyMatch(p -> p.startsWith("mirror: grant a-broken-g of mirrored user a-broken"));
      assertThat(audit("?userId=a-clean").getBoolean("ok")).as("one user's audit sees only that user").isTrue();
      assertThat(audit("?userId=a-broken").getBoolean("ok")).isFalse();
      assertThat(Main.audit(app.config, null)).as("the command exits non-zero").isEqualTo(1);
      assertThat(Main.audit(app.config, "a-clean")).isZero();
    } finally {
      app.sql("UPDATE users SET usage_this_cycle = usage_this_cycle - 3 WHERE user_id = 'a-broken'");
      app.sql("UPDATE grants SET stripe_customer_id = NULL WHERE operation_id = 'a-broken-g'");
    }
  }

  @Test
  void debtBeyondTheLimitAndStuckOutboxRowsAreReported() {
    app.user("a-debt");
    app.grant("a-debt", "a-debt-g", "admin", 10);
    app.consume("a-debt", "a-debt-c", 160); // 50 free + 10 admin, then 100 of debt: at the limit, fine
    assertThat(audit("?userId=a-debt").getBoolean("ok")).isTrue();
    app.sql("UPDATE grants SET balance = balance - 1 WHERE operation_id = 'a-debt-g'");
    try {
      assertThat(problems(audit("?userId=a-debt"))).anyMatch(p -> p.equals(
          "debt: user a-debt: owes 101 credits, over MAX_DEBT 100 plus the 0 credits captured"));
    } finally {
      app.sql("UPDATE grants SET balance = balance + 1 WHERE operation_id = 'a-debt-g'");
    }
    app.user("a-outbox", new JsonObject().put("email", "o@example.com").put("stripeCustomerId", "cus_aoutbox"));
    app.grant("a-outbox", "a-outbox-g", "purchase", 5); // no relay here: the create row waits, which is fine
    assertThat(audit("?userId=a-outbox").getBoolean("ok")).isTrue();
    app.sql("UPDATE stripe_outbox SET attempts = 99 WHERE user_id = 'a-outbox'");
    assertThat(problems(audit("?userId=a-outbox"))).hasSize(2) // the sign-up free grant and the purchase
        .allMatch(p -> p.startsWith("outbox: outbox row ") && p.contains("pending after 99 attempts"));
    app.sql("UPDATE stripe_outbox SET status = 'dead', attempts = 10, last_error = 'HTTP 500' WHERE user_id = 'a-outbox'");
    assertThat(problems(audit("?userId=a-outbox"))).hasSize(2).allMatch(p -> p.contains("dead: HTTP 500"));
    app.sql("UPDATE stripe_outbox SET status = 'pending', attempts = 0 WHERE user_id = 'a-outbox'");
  }
}
