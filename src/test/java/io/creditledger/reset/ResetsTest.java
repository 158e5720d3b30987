package io.creditledger.reset;

import io.creditledger.api.Addresses;
import io.creditledger.api.LedgerClient;
import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
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

class ResetsTest {
  static final Instant START = Instant.parse("2026-01-15T10:00:00Z");
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "100",
      "REFERRAL_RESET_CREDITS", "50", "RESET_SCAN_INTERVAL", "PT1H", "RESET_BATCH_SIZE", "7", "RESET_CONCURRENCY", "3"),
      started -> app = started);

  @BeforeEach
  void rewind() {
    app.clock.set(START);
  }

  /** Moves every user of the test past the years the next test uses, so each test sees only its own users due. */
  @AfterEach
  void retireUsers() {
    app.clock.set(Instant.parse("2031-01-01T00:00:00Z"));
    runResets();
  }

  static int runResets() {
    Api.Response r = app.admin.post("/v1/admin/resets/run", new JsonObject());
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().getInteger("reset");
  }

  static List<JsonObject> grants(String userId) {
    JsonArray all = app.grants(userId);
    List<JsonObject> out = new ArrayList<>();
    for (int i = all.size() - 1; i >= 0; i--) {
      out.add(all.getJsonObject(i));
    }
    return out;
  }

  static JsonObject grant(String userId, String operationId) {
    return grants(userId).stream().filter(g -> g.getString("operationId").equals(operationId)).findFirst()
        .orElseThrow(() -> new AssertionError("no grant " + operationId));
  }

  static long journalSum(String userId, String kind) {
    return app.journal(userId).stream().map(e -> (JsonObject) e).filter(e -> e.getString("kind").equals(kind))
        .mapToLong(e -> e.getLong("delta")).sum();
  }

  @Test
  void rolloverMovesPurchasedCreditsExactlyAndStartsANewCycle() {
    app.user("x-roll");
    app.grant("x-roll", "x-roll-p1", "purchase", 600);
    app.grant("x-roll", "x-roll-p2", "purchase", 400);
    app.grant("x-roll", "x-roll-admin", "admin", 50);
    app.consume("x-roll", "x-roll-c", 150); // 100 free, then 50 from the older purchase
    JsonObject before = app.balance("x-roll");
    long purchasedBefore = before.getJsonObject("breakdown").getLong("purchase")
        + before.getJsonObject("breakdown").getLong("rollover");
    assertThat(purchasedBefore).isEqualTo(950);
    app.clock.set(Instant.parse("2026-02-15T10:00:01Z"));

    assertThat(runResets()).isEqualTo(1);

    JsonObject after = app.balance("x-roll");
    assertThat(after.getJsonObject("breakdown").getLong("rollover")).isEqualTo(purchasedBefore);
    assertThat(after.getJsonObject("breakdown").getLong("purchase")).isZero();
    assertThat(after.getJsonObject("breakdown").getLong("admin")).isEqualTo(50);
    assertThat(after.getJsonObject("breakdown").getLong("free")).isEqualTo(100);
    assertThat(after.getLong("usageThisCycle")).isZero();
    assertThat(after.getString("nextQuotaReset")).isEqualTo("2026-03-15T10:00:00Z");
    assertThat(journalSum("x-roll", "rollover_out")).isEqualTo(-950);
    assertThat(journalSum("x-roll", "rollover_in")).isEqualTo(950);

    JsonObject rollover = grant("x-roll", "rollover/x-roll/2026-02-15T10:00:00Z");
    assertThat(rollover.getString("type")).isEqualTo("rollover");
    assertThat(rollover.getLong("principal")).isEqualTo(950);
    assertThat(rollover.getValue("expiresAt")).isNull();
    assertThat(grant("x-roll", "x-roll-p1").getString("state")).isEqualTo("rolled_over");
    assertThat(grant("x-roll", "x-roll-p1").getLong("principal")).isEqualTo(600);
    assertThat(grant("x-roll", "x-roll-p2").getString("state")).isEqualTo("rolled_over");
    JsonObject free = grant("x-roll", "free/x-roll/2026-03-15T10:00:00Z");
    assertThat(free.getString("expiresAt")).isEqualTo("2026-03-15T10:00:00Z");

    // the next cycle rolls the rollover grant over again, into one new grant
    app.consume("x-roll", "x-roll-march", 130);
    app.clock.set(Instant.parse("2026-03-15T10:00:00Z"));
    assertThat(runResets()).isEqualTo(1);
    assertThat(grant("x-roll", "rollover/x-roll/2026-03-15T10:00:00Z").getLong("principal")).isEqualTo(920);
    assertThat(app.balance("x-roll").getJsonObject("breakdown").getLong("rollover")).isEqualTo(920);
  }

  @Test
  void aRerunOfTheSameCycleChangesNothing() {
    app.user("x-rerun");
    app.grant("x-rerun", "x-rerun-p", "purchase", 10);
    app.clock.set(Instant.parse("2026-02-16T00:00:00Z"));
    assertThat(runResets()).isEqualTo(1);
    JsonArray grantsAfter = app.grants("x-rerun");
    JsonArray journalAfter = app.journal("x-rerun");
    assertThat(runResets()).isZero();
    JsonObject direct = TestApp.await(new LedgerClient(app.vertx).request(Addresses.RESET_APPLY,
        new JsonObject().put("userId", "x-rerun"))).body();
    assertThat(direct.getBoolean("reset")).isFalse();
    assertThat(app.grants("x-rerun")).isEqualTo(grantsAfter);
    assertThat(app.journal("x-rerun")).isEqualTo(journalAfter);
  }

  @Test
  void missedCyclesGiveOneResetToTheFirstFutureBoundary() {
    app.user("x-missed");
    app.clock.set(Instant.parse("2026-06-20T00:00:00Z"));
    assertThat(runResets()).isEqualTo(1);
    assertThat(app.balance("x-missed").getString("nextQuotaReset")).isEqualTo("2026-07-15T10:00:00Z");
    assertThat(grants("x-missed").stream().filter(g -> g.getString("type").equals("free"))).hasSize(2);
    assertThat(app.balance("x-missed").getJsonObject("breakdown").getLong("free")).isEqualTo(100);
  }

  @Test
  void monthEndAnchorsClampAndComeBack() {
    app.clock.set(Instant.parse("2026-01-31T08:00:00Z"));
    JsonObject user = app.user("x-anchor");
    assertThat(user.getString("nextQuotaReset")).isEqualTo("2026-02-28T08:00:00Z");
    app.clock.set(Instant.parse("2026-02-28T08:00:00Z"));
    assertThat(runResets()).isEqualTo(1);
    assertThat(app.balance("x-anchor").getString("nextQuotaReset")).isEqualTo("2026-03-31T08:00:00Z");
    app.clock.set(Instant.parse("2026-03-31T08:00:00Z"));
    assertThat(runResets()).isEqualTo(1);
    assertThat(app.balance("x-anchor").getString("nextQuotaReset")).isEqualTo("2026-04-30T08:00:00Z");
  }

  @Test
  void debtOnAnExpiringGrantCarriesOverAndTheNewGrantsSettleIt() {
    app.user("x-debt");
    app.consume("x-debt", "x-debt-c", 160); // free 100, then 60 of debt on the free grant
    assertThat(app.balance("x-debt").getLong("totalDebt")).isEqualTo(60);
    app.clock.set(Instant.parse("2026-02-15T10:00:00Z"));
    assertThat(runResets()).isEqualTo(1);
    assertThat(journalSum("x-debt", "debt_settlement")).as("expiry did not forgive: the new grant paid").isZero();
    assertThat(app.journal("x-debt").stream().map(e -> (JsonObject) e)
        .filter(e -> e.getString("kind").equals("debt_settlement")).mapToLong(e -> Math.abs(e.getLong("delta"))).sum())
        .isEqualTo(120);
    JsonObject after = app.balance("x-debt");
    assertThat(after.getLong("totalDebt")).isZero();
    assertThat(after.getLong("totalRemaining")).isEqualTo(40);
    JsonObject free = grant("x-debt", "free/x-debt/2026-03-15T10:00:00Z");
    assertThat(free.getLong("principal")).isEqualTo(100);
    assertThat(free.getLong("balance")).isEqualTo(40);
    assertThat(free.getString("description")).contains("cleared 60 credits of debt");
  }

  @Test
  void bothSidesOfAReferralGetTheReferralGrantOfANewCycle() {
    app.user("x-referrer");
    app.user("x-referred");
    app.user("x-plain");
    app.api.post("/v1/referrals", new JsonObject().put("operationId", "x-ref").put("referrerId", "x-referrer")
        .put("referredId", "x-referred").put("credits", 25));
    app.clock.set(Instant.parse("2026-02-15T10:00:00Z"));
    runResets();
    assertThat(grants("x-referrer").stream().map(g -> g.getString("operationId")))
        .contains("referral/x-referrer/2026-03-15T10:00:00Z");
    JsonObject cycleReferral = grant("x-referrer", "referral/x-referrer/2026-03-15T10:00:00Z");
    assertThat(cycleReferral.getLong("principal")).isEqualTo(50);
    assertThat(cycleReferral.getString("expiresAt")).isEqualTo("2026-03-15T10:00:00Z");
    assertThat(grant("x-referred", "referral/x-referred/2026-03-15T10:00:00Z").getLong("principal"))
        .as("the referred user took part in the referral too").isEqualTo(50);
    assertThat(grants("x-plain").stream().map(g -> g.getString("type"))).doesNotContain("referral");
    assertThat(app.balance("x-referrer").getJsonObject("breakdown").getLong("referral"))
        .as("last cycle's referral credits expired").isEqualTo(50);
  }

  @Test
  void aMirroredUsersResetQueuesTheStripeChanges() {
    app.user("x-mirror", new JsonObject().put("email", "m@example.com").put("stripeCustomerId", "cus_xmirror"));
    app.grant("x-mirror", "x-mirror-p", "purchase", 300);
    app.clock.set(Instant.parse("2026-02-15T10:00:00Z"));
    runResets();
    assertThat(app.number("SELECT count(*) FROM stripe_outbox WHERE jsonb_typeof(payload) <> 'object'"))
        .as("payloads are stored as JSON objects").isZero();
    assertThat(app.number("SELECT count(*) FROM stripe_outbox o JOIN grants g USING (grant_id) WHERE o.user_id = 'x-mirror' "
        + "AND o.action = 'void_credit_grant' AND g.operation_id = 'x-mirror-p'")).isEqualTo(1);
    assertThat(app.number("SELECT count(*) FROM stripe_outbox o JOIN grants g USING (grant_id) WHERE o.user_id = 'x-mirror' "
        + "AND o.action = 'create_credit_grant' AND g.operation_id = 'rollover/x-mirror/2026-02-15T10:00:00Z' "
        + "AND o.payload->>'category' = 'paid' AND (o.payload->>'amountCents')::int = 300")).isEqualTo(1);
    assertThat(app.number("SELECT count(*) FROM stripe_outbox o JOIN grants g USING (grant_id) WHERE o.user_id = 'x-mirror' "
        + "AND o.action = 'create_credit_grant' AND g.operation_id = 'free/x-mirror/2026-03-15T10:00:00Z' "
        + "AND o.payload->>'category' = 'promotional'")).isEqualTo(1);
  }

  @Test
  void consumptionsDuringAResetAreCountedOnceInTheCycleTheyFellIn() throws Exception {
    app.user("x-race");
    app.grant("x-race", "x-race-p", "purchase", 10_000);
    app.clock.set(Instant.parse("2026-02-15T10:00:00Z"));
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<Api.Response>> consumes = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        int n = i;
        consumes.add(pool.submit(() -> app.consume("x-race", "x-race-c" + n, 10)));
        if (i == 20) {
          consumes.add(pool.submit(() -> {
            runResets(); // races the consumptions, which reset the user themselves when they come first
            return null;
          }));
        }
      }
      for (Future<Api.Response> f : consumes) {
        Api.Response r = f.get();
        if (r != null) {
          assertThat(r.status()).isEqualTo(200);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    JsonArray journal = app.journal("x-race");
    long resetEntry = journal.stream().map(e -> (JsonObject) e).filter(e -> e.getString("kind").equals("rollover_in"))
        .mapToLong(e -> e.getLong("entryId")).max().orElseThrow();
    long consumedAfterReset = journal.stream().map(e -> (JsonObject) e)
        .filter(e -> e.getString("kind").equals("consume") && e.getLong("entryId") > resetEntry)
        .mapToLong(e -> -e.getLong("delta")).sum();
    JsonObject balance = app.balance("x-race");
    assertThat(balance.getLong("usageThisCycle")).isEqualTo(consumedAfterReset);
    assertThat(journalSum("x-race", "consume")).isEqualTo(-600);
    assertThat(app.number("SELECT count(*) FROM operations WHERE kind = 'reset' AND user_id = 'x-race'"))
        .as("reset exactly once").isEqualTo(1);
    // every credit is accounted for: granted, minus consumed, minus what expired
    long expired = -journalSum("x-race", "expiry");
    assertThat(balance.getLong("netBalance")).isEqualTo(10_000 + 100 + 100 - 600 - expired);
  }

  @Test
  void aBacklogDrainsInBatchesWhileTheApiKeepsAnswering() throws Exception {
    for (int i = 0; i < 40; i++) {
      app.user("x-backlog-" + i);
    }
    app.clock.set(Instant.parse("2026-02-15T10:00:00Z"));
    app.user("x-backlog-reader"); // created now, so not due: reading it leaves the backlog to the scanner
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> run = pool.submit(ResetsTest::runResets);
      while (!run.isDone()) {
        assertThat(app.api.get("/v1/users/x-backlog-reader/balance").status()).isEqualTo(200);
      }
      assertThat(run.get()).isEqualTo(40);
    } finally {
      pool.shutdownNow();
    }
    for (int i = 0; i < 40; i++) {
      assertThat(app.balance("x-backlog-" + i).getString("nextQuotaReset")).isEqualTo("2026-03-15T10:00:00Z");
    }
  }
}
