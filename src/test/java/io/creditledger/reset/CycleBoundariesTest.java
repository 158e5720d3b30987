package io.creditledger.reset;

import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Money across cycle boundaries, through HTTP: every operation applies a due reset first, grants and refunds
 * follow credits into rollovers, and the boundary cases around them. Each test runs on users of its own, created
 * at the test's own start time, so the shared clock only ever moves forward.
 */
class CycleBoundariesTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "100",
      "REFERRAL_RESET_CREDITS", "50", "RESET_CYCLE", "P1D", "RESET_SCAN_INTERVAL", "PT1H"), started -> app = started);

  /** Moves the clock to a fresh day of its own for the test and answers it. */
  static Instant freshDay(int day) {
    Instant start = Instant.parse("2026-03-01T09:00:00Z").plusSeconds(86_400L * 10 * day);
    app.clock.set(start);
    return start;
  }

  static void pastTheBoundary(Instant start) {
    app.clock.set(start.plusSeconds(86_400 + 60));
  }

  static JsonObject grant(String userId, String operationId) {
    JsonArray all = app.grants(userId);
    for (int i = 0; i < all.size(); i++) {
      if (all.getJsonObject(i).getString("operationId").equals(operationId)) {
        return all.getJsonObject(i);
      }
    }
    throw new AssertionError("no grant " + operationId + " in " + all.encodePrettily());
  }

  static JsonObject rollover(String userId, Instant boundary) {
    return grant(userId, "rollover/" + userId + "/" + boundary);
  }

  static long resetOperations(String userId) {
    return app.number("SELECT count(*) FROM operations WHERE kind = 'reset' AND user_id = '" + userId + "'");
  }

  @Test
  void aDueUserIsResetBeforeAConsumption() {
    Instant start = freshDay(1);
    app.user("lazy-consume");
    assertThat(app.grant("lazy-consume", "lazy-consume-p", "purchase", 1000).status()).isEqualTo(201);
    pastTheBoundary(start);

    Api.Response consumed = app.consume("lazy-consume", "lazy-consume-c", 10);

    assertThat(consumed.status()).as(consumed.toString()).isEqualTo(200);
    JsonObject balance = consumed.json().getJsonObject("balance");
    assertThat(balance.getLong("usageThisCycle")).as("the consumption counts in the new cycle").isEqualTo(10);
    assertThat(balance.getString("nextQuotaReset")).isEqualTo(start.plusSeconds(2 * 86_400).toString());
    assertThat(balance.getJsonObject("breakdown").getLong("free")).as("the new cycle's free grant pays first")
        .isEqualTo(90);
    assertThat(balance.getJsonObject("breakdown").getLong("rollover")).isEqualTo(1000);
    assertThat(consumed.json().getLong("fromPurchased")).isZero();
    assertThat(resetOperations("lazy-consume")).isEqualTo(1);
    assertThat(app.admin.post("/v1/admin/resets/run", new JsonObject()).status()).isEqualTo(200);
    assertThat(resetOperations("lazy-consume")).as("the scanner finds nothing left to do for this user").isEqualTo(1);
  }

  @Test
  void aDueUserIsResetBeforeAGrantAndAGrantExpiringAtTheResetIsNeverBornExpired() {
    Instant start = freshDay(2);
    app.user("lazy-grant");
    pastTheBoundary(start);

    Api.Response granted = app.grant("lazy-grant", "lazy-grant-free", "free", 30);

    assertThat(granted.status()).as(granted.toString()).isEqualTo(201);
    Instant newReset = start.plusSeconds(2 * 86_400);
    assertThat(granted.json().getString("expiresAt")).isEqualTo(newReset.toString());
    assertThat(granted.json().getString("state")).isEqualTo("active");
    assertThat(app.balance("lazy-grant").getJsonObject("breakdown").getLong("free")).isEqualTo(130);
    assertThat(resetOperations("lazy-grant")).isEqualTo(1);
  }

  @Test
  void everyReadShowsTheCurrentCycle() {
    Instant start = freshDay(3);
    app.user("lazy-read");
    app.consume("lazy-read", "lazy-read-c", 40);
    pastTheBoundary(start);

    JsonObject user = app.api.get("/v1/users/lazy-read").json();
    assertThat(user.getLong("usageThisCycle")).isZero();
    assertThat(user.getString("nextQuotaReset")).isEqualTo(start.plusSeconds(2 * 86_400).toString());
    JsonObject balance = app.balance("lazy-read");
    assertThat(balance.getJsonObject("breakdown").getLong("free")).as("last cycle's free grant expired").isEqualTo(100);
    assertThat(grant("lazy-read", "free/lazy-read/" + start.plusSeconds(86_400)).getString("state")).isEqualTo("expired");
    assertThat(resetOperations("lazy-read")).isEqualTo(1);
  }

  @Test
  void concurrentRequestsOfADueUserResetItExactlyOnce() throws Exception {
    Instant start = freshDay(4);
    app.user("lazy-race");
    app.grant("lazy-race", "lazy-race-p", "purchase", 500);
    pastTheBoundary(start);

    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Api.Response>> answers = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        int n = i;
        answers.add(pool.submit(() -> n % 4 == 0 ? app.api.get("/v1/users/lazy-race/balance")
            : app.consume("lazy-race", "lazy-race-c" + n, 5)));
      }
      for (Future<Api.Response> answer : answers) {
        assertThat(answer.get().status()).as(answer.get().toString()).isEqualTo(200);
      }
    } finally {
      pool.shutdown();
    }
    assertThat(resetOperations("lazy-race")).isEqualTo(1);
    JsonObject balance = app.balance("lazy-race");
    assertThat(balance.getLong("usageThisCycle")).isEqualTo(12 * 5);
    assertThat(balance.getLong("netBalance")).isEqualTo(500 + 100 - 60);
    assertThat(rollover("lazy-race", start.plusSeconds(86_400)).getLong("principal")).isEqualTo(500);
  }

  @Test
  void anAdminRevokeOfARolledOverPurchaseTakesItsCreditsBackFromTheRollover() {
    Instant start = freshDay(5);
    app.user("roll-revoke");
    app.grant("roll-revoke", "roll-revoke-old", "purchase", 300);
    app.grant("roll-revoke", "roll-revoke-p", "purchase", 800);
    app.consume("roll-revoke", "roll-revoke-c1", 150); // 100 free, then 50 from the older purchase
    pastTheBoundary(start);
    app.consume("roll-revoke", "roll-revoke-c2", 120); // the new free grant's 100, then 20 of the rollover
    Instant boundary = start.plusSeconds(86_400);
    assertThat(rollover("roll-revoke", boundary).getLong("balance")).isEqualTo(1030);

    Api.Response revoked = app.admin.post("/v1/grants/roll-revoke-p/revoke", new JsonObject().put("reason", "chargeback"));

    assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);
    assertThat(revoked.json().getLong("revoked")).as("all 800 purchased credits are still in the rollover").isEqualTo(800);
    assertThat(revoked.json().getString("state")).isEqualTo("revoked");
    assertThat(rollover("roll-revoke", boundary).getLong("balance")).isEqualTo(230);
    assertThat(app.admin.post("/v1/grants/roll-revoke-p/revoke", new JsonObject().put("reason", "again")).json()
        .getLong("revoked")).as("revoking twice changes nothing").isZero();
    assertThat(rollover("roll-revoke", boundary).getLong("balance")).isEqualTo(230);
    // the older purchase's 250 were spent first: 20 of them, so 230 are left, all of them its own
    assertThat(app.admin.post("/v1/grants/roll-revoke-old/revoke", new JsonObject().put("reason", "refund")).json()
        .getLong("revoked")).isEqualTo(230);
    assertThat(rollover("roll-revoke", boundary).getLong("balance")).isZero();
  }

  @Test
  void refundsFollowCreditsThroughSeveralRollovers() {
    Instant start = freshDay(6);
    app.user("roll-chain");
    app.grant("roll-chain", "roll-chain-p", "purchase", 800);
    pastTheBoundary(start); // 800 into the first rollover
    app.consume("roll-chain", "roll-chain-c", 150); // 100 free, 50 of the rollover
    app.clock.set(start.plusSeconds(2 * 86_400 + 60)); // 750 into the second rollover
    assertThat(app.balance("roll-chain").getJsonObject("breakdown").getLong("rollover")).isEqualTo(750);

    Api.Response revoked = app.admin.post("/v1/grants/roll-chain-p/revoke", new JsonObject().put("reason", "fraud"));

    assertThat(revoked.json().getLong("revoked")).isEqualTo(750);
    assertThat(app.balance("roll-chain").getJsonObject("breakdown").getLong("rollover")).isZero();
  }

  @Test
  void aPurchaseWithItsOwnExpiryKeepsItAcrossAReset() {
    Instant start = freshDay(7);
    app.user("dated");
    Instant expiresAt = start.plusSeconds(3 * 86_400);
    Api.Response granted = app.admin.post("/v1/users/dated/grants", new JsonObject().put("operationId", "dated-p")
        .put("type", "purchase").put("amount", 400).put("expiresAt", expiresAt.toString()));
    assertThat(granted.status()).isEqualTo(201);
    pastTheBoundary(start);

    JsonObject purchase = grant("dated", "dated-p");
    assertThat(purchase.getString("state")).isEqualTo("active");
    assertThat(purchase.getLong("balance")).isEqualTo(400);
    assertThat(app.balance("dated").getJsonObject("breakdown").getLong("rollover")).isZero();

    app.clock.set(expiresAt.plusSeconds(1));
    assertThat(grant("dated", "dated-p").getString("state")).isEqualTo("expired");
    assertThat(app.balance("dated").getJsonObject("breakdown").getLong("purchase")).isZero();
  }

  @Test
  void aRolloverIsWorthItsSourcesAtTheirOwnPricesNotTodays() {
    Instant start = freshDay(8);
    app.user("priced", new JsonObject().put("email", "p@example.com").put("centsPerCredit", "1.5"));
    app.grant("priced", "priced-p", "purchase", 800); // 1200 cents
    app.consume("priced", "priced-c", 101); // 100 free, 1 purchased: 799 left, worth 1198.5 cents
    assertThat(app.api.put("/v1/users/priced", new JsonObject().put("email", "p@example.com")
        .put("centsPerCredit", "3")).status()).isEqualTo(200);
    pastTheBoundary(start);

    JsonObject rolled = rollover("priced", start.plusSeconds(86_400));
    assertThat(rolled.getLong("principal")).isEqualTo(799);
    assertThat(rolled.getLong("cents")).as("at 1.5, rounded down; not 2397 at today's 3").isEqualTo(1198);

    app.clock.set(start.plusSeconds(2 * 86_400 + 60));
    JsonObject again = rollover("priced", start.plusSeconds(2 * 86_400));
    assertThat(again.getLong("cents")).as("carried over whole, it keeps its value").isEqualTo(1198);
  }

  @Test
  void aReferralBackIsRefused() {
    freshDay(9);
    app.user("ref-a");
    app.user("ref-b");
    assertThat(refer("ref-ab", "ref-a", "ref-b").status()).isEqualTo(201);
    Api.Response back = refer("ref-ba", "ref-b", "ref-a");
    assertThat(back.status()).isEqualTo(409);
    assertThat(back.errorCode()).isEqualTo("referral_cycle");
  }

  @Test
  void theReferralLimitIsPerUser() {
    freshDay(10);
    app.user("lim-r", new JsonObject().put("email", "r@example.com").put("referralLimit", 1));
    app.user("lim-1");
    app.user("lim-2");
    assertThat(app.api.get("/v1/users/lim-r").json().getInteger("referralLimit")).isEqualTo(1);
    assertThat(refer("lim-op1", "lim-r", "lim-1").status()).isEqualTo(201);
    Api.Response second = refer("lim-op2", "lim-r", "lim-2");
    assertThat(second.status()).isEqualTo(409);
    assertThat(second.errorCode()).isEqualTo("referral_limit_reached");

    assertThat(app.api.put("/v1/users/lim-r", new JsonObject().put("email", "r@example.com").put("referralLimit", null))
        .json().getValue("referralLimit")).as("null restores REFERRAL_LIMIT").isNull();
    assertThat(refer("lim-op2", "lim-r", "lim-2").status()).isEqualTo(201);
  }

  @Test
  void theCycleReferralGrantCountsReferralsAsReferrerOrReferred() {
    Instant start = freshDay(11);
    app.user("cyc-r");
    app.user("cyc-1");
    app.user("cyc-2");
    refer("cyc-op1", "cyc-r", "cyc-1");
    refer("cyc-op2", "cyc-r", "cyc-2");
    pastTheBoundary(start);

    Instant next = start.plusSeconds(2 * 86_400);
    assertThat(grant("cyc-r", "referral/cyc-r/" + next).getLong("principal")).isEqualTo(2 * 50);
    assertThat(grant("cyc-1", "referral/cyc-1/" + next).getLong("principal"))
        .as("the referred user took part too").isEqualTo(50);
  }

  static Api.Response refer(String operationId, String referrer, String referred) {
    return app.api.post("/v1/referrals", new JsonObject().put("operationId", operationId).put("referrerId", referrer)
        .put("referredId", referred).put("credits", 20));
  }

  @Test
  void aFailingResetIsRecordedBacksOffAndDoesNotStallTheOthers() {
    Instant start = freshDay(12);
    app.user("fail-ok1");
    app.user("fail-bad");
    app.user("fail-ok2");
    app.sql("CREATE FUNCTION refuse_reset() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "RAISE EXCEPTION 'reset refused for the test'; END $$");
    app.sql("CREATE TRIGGER refuse_reset BEFORE UPDATE OF next_quota_reset ON users FOR EACH ROW "
        + "WHEN (OLD.user_id = 'fail-bad') EXECUTE FUNCTION refuse_reset()");
    try {
      pastTheBoundary(start);
      JsonObject run = app.admin.post("/v1/admin/resets/run", new JsonObject()).json();
      assertThat(resetOperations("fail-ok1")).as("the others were reset").isEqualTo(1);
      assertThat(resetOperations("fail-ok2")).isEqualTo(1);
      assertThat(resetOperations("fail-bad")).isZero();
      assertThat(run.getJsonArray("failed")).hasSize(1);
      assertThat(run.getJsonArray("failed").getJsonObject(0).getString("userId")).isEqualTo("fail-bad");
      assertThat(run.getJsonArray("failed").getJsonObject(0).getString("error")).contains("reset refused");
      assertThat(app.number("SELECT count(*) FROM sync_failure WHERE operation_id = 'reset/fail-bad'")).isEqualTo(1);

      JsonObject rerun = app.admin.post("/v1/admin/resets/run", new JsonObject()).json();
      assertThat(rerun.getJsonArray("failed")).as("backing off: not claimed again at once").isEmpty();
      assertThat(app.number("SELECT failures FROM reset_claims WHERE user_id = 'fail-bad'")).isEqualTo(1);
    } finally {
      app.sql("DROP TRIGGER refuse_reset ON users");
      app.sql("DROP FUNCTION refuse_reset()");
    }
    app.clock.set(start.plusSeconds(86_400 + 4 * 3600)); // past the first back-off (at most RESET_SCAN_INTERVAL)
    JsonObject recovered = app.admin.post("/v1/admin/resets/run", new JsonObject()).json();
    assertThat(recovered.getJsonArray("failed")).isEmpty();
    assertThat(resetOperations("fail-bad")).isEqualTo(1);
    assertThat(app.number("SELECT failures FROM reset_claims WHERE user_id = 'fail-bad'")).isZero();
  }
}
