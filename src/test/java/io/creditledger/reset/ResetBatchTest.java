package io.creditledger.reset;

import io.creditledger.domain.CycleGrants;
import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Resets of many users written in one transaction ({@code ResetService.resetAll}): each user gets exactly their own
 * reset, however their grants, debts, mirrors and cycles differ from their batch-mates'.
 */
class ResetBatchTest {
  static final Instant START = Instant.parse("2026-01-15T10:00:00Z");
  static final int USERS = 30;
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "100",
      "MAX_DEBT", "1000", "RESET_SCAN_INTERVAL", "PT1H", "RESET_BATCH_SIZE", "100", "RESET_CONCURRENCY", "100"),
      started -> app = started);

  static boolean inDebt(int i) {
    return i % 5 == 0;
  }

  static boolean mirrored(int i) {
    return i % 3 == 0;
  }

  static long purchase(int i) {
    return 10L * (i + 1);
  }

  @Test
  void usersResetTogetherEachGetTheirOwnReset() {
    Map<String, Instant> boundaries = new HashMap<>();
    for (int i = 0; i < USERS; i++) {
      String id = "rb-" + i;
      app.clock.set(START.plus(Duration.ofHours(i)));
      JsonObject body = new JsonObject().put("email", id + "@example.com");
      if (mirrored(i)) {
        body.put("stripeCustomerId", "cus_rb" + i);
      }
      boundaries.put(id, Instant.parse(app.user(id, body).getString("nextQuotaReset")));
      assertThat(app.grant(id, id + "-p", "purchase", purchase(i)).status()).isEqualTo(201);
      if (inDebt(i)) {
        assertThat(app.consume(id, id + "-c", 100 + purchase(i) + 20).status()).isEqualTo(200);
      }
    }

    app.clock.set(Instant.parse("2026-02-20T00:00:00Z"));
    Api.Response run = app.admin.post("/v1/admin/resets/run", new JsonObject());
    assertThat(run.status()).as(run.toString()).isEqualTo(200);
    assertThat(run.json().getInteger("reset")).isEqualTo(USERS);

    for (int i = 0; i < USERS; i++) {
      String id = "rb-" + i;
      Instant boundary = boundaries.get(id);
      JsonObject balance = app.balance(id);
      assertThat(balance.getString("nextQuotaReset")).as(id)
          .isEqualTo(boundary.atOffset(ZoneOffset.UTC).plusMonths(1).toInstant().toString());
      assertThat(balance.getLong("usageThisCycle")).as(id).isZero();
      assertThat(balance.getLong("totalDebt")).as(id + ": the new free grant paid the debt").isZero();
      long rollover = balance.getJsonObject("breakdown").getLong("rollover");
      assertThat(rollover).as(id + ": its own purchase rolled over").isEqualTo(inDebt(i) ? 0 : purchase(i));
      assertThat(balance.getLong("netBalance")).as(id).isEqualTo(inDebt(i) ? 80 : purchase(i) + 100);
      assertThat(app.number("SELECT count(*) FROM operations WHERE operation_id = 'reset/" + id + "/" + boundary + "'"))
          .as(id + ": the reset is recorded under its boundary").isEqualTo(1);
      assertThat(app.number("SELECT count(*) FROM operations o JOIN grants g ON g.operation_id = o.operation_id "
          + "WHERE g.user_id = '" + id + "' AND g.type IN ('rollover', 'free') AND g.created_at > '" + boundary + "'"))
          .as(id + ": the grants the reset opened have no records of their own; the reset's answers for them")
          .isZero();
      assertThat(app.number("SELECT count(*) FROM grants WHERE user_id = '" + id + "' AND operation_id = '"
          + CycleGrants.free(id, boundary.atOffset(ZoneOffset.UTC).plusMonths(1).toInstant()) + "'"))
          .as(id + ": the new free grant").isEqualTo(1);
      // sign-up's free grant, the purchase, then the reset's: the purchase voided and the rollover created (when
      // anything rolled over) and the new free grant
      assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE user_id = '" + id + "' "
          + "AND action IN ('create_credit_grant', 'void_credit_grant')"))
          .as(id + ": mirrored users' grants are queued for Stripe, others' not")
          .isEqualTo(mirrored(i) ? (inDebt(i) ? 3 : 5) : 0);
    }
    assertThat(app.number("SELECT count(*) FROM rollover_sources s JOIN grants r ON r.grant_id = s.rollover_grant_id "
        + "JOIN grants g ON g.grant_id = s.source_grant_id WHERE r.user_id <> g.user_id OR s.credits <> g.principal"))
        .as("every rollover took its own user's purchase, whole").isZero();
    assertThat(app.number("SELECT count(DISTINCT xmin::text) FROM users WHERE user_id LIKE 'rb-%'"))
        .as("the resets were written many to a transaction").isLessThan(USERS / 2);
    JsonObject audit = app.admin.get("/v1/admin/audit").json();
    assertThat(audit.getBoolean("ok")).as(audit.encodePrettily()).isTrue();
  }
}
