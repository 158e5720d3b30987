package io.creditledger.holds;

import io.creditledger.api.LedgerClient;
import io.creditledger.domain.Capture;
import io.creditledger.domain.Hold;
import io.creditledger.domain.HoldAnswer;
import io.creditledger.error.LedgerException;
import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.creditledger.support.Together;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Authorization holds over HTTP and the event bus: placing within what is available, capturing (less, all, more,
 * after expiry took credits, after a reset), releasing, expiry, replays, and races (holds on one user; a capture
 * against the sweeper). MAX_DEBT is 0 here, so any debt comes from a capture's promise.
 */
class HoldsHttpTest {
  static TestApp app;
  static ExecutorService pool;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of(
      "FREE_GRANT_CREDITS", "0", "MAX_DEBT", "0", "RESET_CYCLE", "P1D", "HOLD_MAX_TTL", "PT48H",
      "HOLD_SWEEP_INTERVAL", "PT0.05S", "DATABASE_POOL_SIZE", "16"), started -> app = started);

  @BeforeAll
  static void startClients() {
    pool = Executors.newFixedThreadPool(40);
  }

  @AfterAll
  static void stopClients() {
    pool.shutdownNow();
  }

  @AfterEach
  void auditStaysClean() {
    JsonObject audit = app.admin.get("/v1/admin/audit").json();
    assertThat(audit.getBoolean("ok")).as(audit.encodePrettily()).isTrue();
  }

  static Api.Response hold(String userId, String operationId, long amount, String ttl) {
    JsonObject body = new JsonObject().put("operationId", operationId).put("amount", amount);
    if (ttl != null) {
      body.put("ttl", ttl);
    }
    return app.api.post("/v1/users/" + userId + "/holds", body);
  }

  static Api.Response capture(String userId, String holdId, String operationId, long amount) {
    return app.api.post("/v1/users/" + userId + "/holds/" + holdId + "/capture",
        new JsonObject().put("operationId", operationId).put("amount", amount));
  }

  static Api.Response release(String userId, String holdId) {
    return app.api.post("/v1/users/" + userId + "/holds/" + holdId + "/release", new JsonObject());
  }

  @Test
  void aHoldReservesThenItsCaptureConsumesWhatItCostAndLetsTheRestGo() {
    app.user("h-life");
    app.grant("h-life", "h-life-free", "free", 30);
    app.grant("h-life", "h-life-p", "purchase", 100);
    Instant now = app.clock.instant();

    Api.Response placed = hold("h-life", "h-life-1", 80, null);
    assertThat(placed.status()).isEqualTo(201);
    JsonObject h = placed.json();
    assertThat(h.getString("holdId")).isEqualTo("h-life-1");
    assertThat(h.getString("state")).isEqualTo("held");
    assertThat(h.getLong("amount")).isEqualTo(80);
    assertThat(Instant.parse(h.getString("expiresAt"))).as("HOLD_DEFAULT_TTL is 15 minutes")
        .isEqualTo(now.plus(Duration.ofMinutes(15)));
    assertThat(h.getJsonObject("balance").getLong("held")).isEqualTo(80);
    assertThat(h.getJsonObject("balance").getLong("available")).isEqualTo(50);
    assertThat(app.journal("h-life")).as("a hold moves no credits").hasSize(2);

    JsonObject balance = app.balance("h-life");
    assertThat(balance.getLong("netBalance")).isEqualTo(130);
    assertThat(balance.getLong("held")).isEqualTo(80);
    assertThat(balance.getLong("available")).isEqualTo(50);
    assertThat(app.api.get("/v1/users/h-life/holds/h-life-1").json().getString("state")).isEqualTo("held");
    assertThat(app.api.get("/v1/users/h-life/holds?state=held").json().getJsonArray("holds")).hasSize(1);

    Api.Response captured = capture("h-life", "h-life-1", "h-life-c", 45);
    assertThat(captured.status()).isEqualTo(200);
    JsonObject c = captured.json();
    assertThat(c.getString("holdId")).isEqualTo("h-life-1");
    assertThat(c.getString("operationId")).isEqualTo("h-life-c");
    assertThat(c.getLong("consumed")).isEqualTo(45);
    assertThat(c.getLong("released")).isEqualTo(35);
    assertThat(c.getLong("fromPurchased")).as("free first, as a consumption").isEqualTo(15);
    JsonObject after = c.getJsonObject("balance");
    assertThat(after.getLong("netBalance")).isEqualTo(85);
    assertThat(after.getLong("held")).isZero();
    assertThat(after.getLong("available")).isEqualTo(85);
    assertThat(after.getLong("usageThisCycle")).isEqualTo(45);
    assertThat(app.balance("h-life")).isEqualTo(after);

    JsonObject stored = app.api.get("/v1/users/h-life/holds/h-life-1").json();
    assertThat(stored.getString("state")).isEqualTo("captured");
    assertThat(stored.getString("captureOperationId")).isEqualTo("h-life-c");
    assertThat(stored.getLong("captured")).isEqualTo(45);
    assertThat(app.api.get("/v1/users/h-life/holds?state=held").json().getJsonArray("holds")).isEmpty();
    assertThat(app.api.get("/v1/users/h-life/holds?state=captured").json().getJsonArray("holds")).hasSize(1);
  }

  @Test
  void everyCallReplaysAndAReusedIdWithAnotherRequestConflicts() {
    app.user("h-rep");
    app.grant("h-rep", "h-rep-p", "purchase", 100);
    Api.Response first = hold("h-rep", "h-rep-1", 60, "PT1H");
    Api.Response again = hold("h-rep", "h-rep-1", 60, "PT1H");
    assertThat(again.status()).isEqualTo(201);
    assertThat(again.json()).isEqualTo(first.json());
    assertThat(app.balance("h-rep").getLong("held")).as("placed once").isEqualTo(60);
    assertThat(hold("h-rep", "h-rep-1", 61, "PT1H").errorCode()).isEqualTo("operation_conflict");
    assertThat(hold("h-rep", "h-rep-p", 10, null).errorCode()).as("a grant's operationId").isEqualTo("operation_conflict");

    Api.Response captured = capture("h-rep", "h-rep-1", "h-rep-c", 60);
    assertThat(captured.status()).isEqualTo(200);
    Api.Response replay = capture("h-rep", "h-rep-1", "h-rep-c", 60);
    assertThat(replay.status()).isEqualTo(200);
    assertThat(replay.json()).isEqualTo(captured.json());
    assertThat(capture("h-rep", "h-rep-1", "h-rep-c2", 10).errorCode()).isEqualTo("hold_closed");
    assertThat(capture("h-rep", "h-rep-1", "h-rep-c", 59).errorCode()).as("same id, other amount")
        .isEqualTo("operation_conflict");
    assertThat(release("h-rep", "h-rep-1").errorCode()).as("a captured hold cannot be released")
        .isEqualTo("hold_closed");
    assertThat(app.balance("h-rep").getLong("usageThisCycle")).as("captured once").isEqualTo(60);

    hold("h-rep", "h-rep-2", 20, null);
    Api.Response released = release("h-rep", "h-rep-2");
    assertThat(released.status()).isEqualTo(200);
    assertThat(released.json().getString("state")).isEqualTo("released");
    assertThat(released.json().getJsonObject("balance").getLong("held")).isZero();
    Api.Response twice = app.api.raw("POST", "/v1/users/h-rep/holds/h-rep-2/release", null, null);
    assertThat(twice.status()).as("a release needs no body").isEqualTo(200);
    assertThat(twice.json().getString("state")).isEqualTo("released");
    assertThat(twice.json().getString("closedAt")).isEqualTo(released.json().getString("closedAt"));
    assertThat(capture("h-rep", "h-rep-2", "h-rep-c3", 1).errorCode()).isEqualTo("hold_closed");
  }

  @Test
  void aHoldNeedsAvailableCreditsAndAConsumptionCannotSpendHeldOnes() {
    app.user("h-avail");
    app.grant("h-avail", "h-avail-p", "purchase", 100);
    assertThat(hold("h-avail", "h-avail-1", 70, null).status()).isEqualTo(201);
    Api.Response tooMuch = hold("h-avail", "h-avail-2", 31, null);
    assertThat(tooMuch.status()).isEqualTo(402);
    assertThat(tooMuch.errorCode()).isEqualTo("insufficient_credits");
    assertThat(app.consume("h-avail", "h-avail-c1", 31).errorCode()).as("held credits are not the consumption's")
        .isEqualTo("insufficient_credits");
    assertThat(app.consume("h-avail", "h-avail-c2", 30).status()).isEqualTo(200);
    JsonObject b = app.balance("h-avail");
    assertThat(b.getLong("available")).isZero();
    assertThat(b.getLong("held")).isEqualTo(70);

    Api.Response more = capture("h-avail", "h-avail-1", "h-avail-cap", 71);
    assertThat(more.status()).as("past the hold, consumption's rules apply").isEqualTo(402);
    assertThat(app.balance("h-avail")).as("a refused capture changes nothing").isEqualTo(b);
    assertThat(capture("h-avail", "h-avail-1", "h-avail-cap", 70).status()).isEqualTo(200);
    assertThat(app.balance("h-avail").getLong("netBalance")).isZero();

    assertThat(hold("nobody", "h-avail-x", 1, null).status()).isEqualTo(404);
    assertThat(capture("h-avail", "no-such-hold", "h-avail-y", 1).errorCode()).isEqualTo("hold_not_found");
    assertThat(app.api.get("/v1/users/h-avail/holds/no-such-hold").errorCode()).isEqualTo("hold_not_found");
    assertThat(app.api.get("/v1/users/nobody/holds").errorCode()).isEqualTo("user_not_found");
    assertThat(hold("h-avail", "h-avail-z", 1, "P3D").errorCode()).as("past HOLD_MAX_TTL").isEqualTo("invalid_field");
    assertThat(hold("h-avail", "h-avail-z", 1, "soon").errorCode()).isEqualTo("invalid_field");
    assertThat(hold("h-avail", "h-avail-z", 0, null).errorCode()).isEqualTo("invalid_field");
    assertThat(app.api.get("/v1/users/h-avail/holds?state=open").errorCode()).isEqualTo("invalid_field");
  }

  @Test
  void aCaptureMoreThanHeldMayUseWhatIsAvailable() {
    app.user("h-more");
    app.grant("h-more", "h-more-p", "purchase", 100);
    hold("h-more", "h-more-1", 40, null);
    Api.Response c = capture("h-more", "h-more-1", "h-more-c", 90);
    assertThat(c.status()).isEqualTo(200);
    assertThat(c.json().getLong("released")).isZero();
    assertThat(app.balance("h-more").getLong("netBalance")).isEqualTo(10);
  }

  @Test
  void aCaptureAfterExpiryTookCreditsMakesDebtAndDebtBlocksHolds() {
    app.user("h-debt");
    app.grant("h-debt", "h-debt-p", "admin", 50);
    app.admin.post("/v1/users/h-debt/grants", new JsonObject().put("operationId", "h-debt-short").put("type", "admin")
        .put("amount", 40).put("expiresAt", app.clock.instant().plus(Duration.ofMinutes(30)).toString()));
    hold("h-debt", "h-debt-1", 90, "PT2H");
    app.clock.advance(Duration.ofHours(1));
    // the short grant expired under the hold; the capture still gets all 90, 40 of them as debt past MAX_DEBT 0
    Api.Response c = capture("h-debt", "h-debt-1", "h-debt-c", 90);
    assertThat(c.status()).isEqualTo(200);
    assertThat(c.json().getJsonObject("balance").getLong("totalDebt")).isEqualTo(40);
    assertThat(app.journal("h-debt").stream().map(e -> ((JsonObject) e).getString("kind")))
        .contains("expiry", "consume");
    Api.Response refused = hold("h-debt", "h-debt-2", 1, null);
    assertThat(refused.status()).isEqualTo(402);
    assertThat(refused.errorCode()).isEqualTo("debt_outstanding");
  }

  @Test
  void aHoldPastItsTtlStopsCountingAndCannotBeCaptured() {
    app.user("h-ttl");
    app.grant("h-ttl", "h-ttl-p", "purchase", 100);
    hold("h-ttl", "h-ttl-1", 100, "PT10M");
    assertThat(app.consume("h-ttl", "h-ttl-c0", 1).status()).isEqualTo(402);
    app.clock.advance(Duration.ofMinutes(10));
    JsonObject b = app.balance("h-ttl");
    assertThat(b.getLong("held")).isZero();
    assertThat(b.getLong("available")).isEqualTo(100);
    assertThat(app.api.get("/v1/users/h-ttl/holds/h-ttl-1").json().getString("state")).isEqualTo("expired");
    Api.Response late = capture("h-ttl", "h-ttl-1", "h-ttl-c", 10);
    assertThat(late.status()).isEqualTo(409);
    assertThat(late.errorCode()).isEqualTo("hold_expired");
    assertThat(app.consume("h-ttl", "h-ttl-c1", 100).status()).isEqualTo(200);
    Api.Response released = release("h-ttl", "h-ttl-1");
    assertThat(released.status()).as("releasing an expired hold changes nothing").isEqualTo(200);
    assertThat(released.json().getString("state")).isEqualTo("expired");
    awaitState("h-ttl", "h-ttl-1", "expired");
  }

  @Test
  void aResetBetweenHoldAndCaptureLeavesTheHoldInPlace() {
    app.user("h-reset");
    app.grant("h-reset", "h-reset-p", "purchase", 100);
    app.clock.advance(Duration.ofHours(23));
    hold("h-reset", "h-reset-1", 80, "PT3H");
    app.clock.advance(Duration.ofHours(2)); // the user's cycle ended an hour ago; no reset has run yet
    Api.Response c = capture("h-reset", "h-reset-1", "h-reset-c", 50);
    assertThat(c.status()).isEqualTo(200);
    JsonObject b = c.json().getJsonObject("balance");
    assertThat(b.getLong("netBalance")).as("purchased credits rolled over, then the capture took 50").isEqualTo(50);
    assertThat(b.getLong("usageThisCycle")).as("counted in the new cycle").isEqualTo(50);
    assertThat(b.getJsonObject("breakdown").getLong("rollover")).isEqualTo(50);
    assertThat(b.getLong("held")).isZero();
  }

  @Test
  void concurrentHoldsOnOneUserNeverReserveMoreThanItHas() throws Exception {
    app.user("h-many");
    app.grant("h-many", "h-many-p", "purchase", 100);
    List<Api.Response> answers = together(30, i -> hold("h-many", "h-many-" + i, 10, null));
    assertThat(answers.stream().filter(r -> r.status() == 201)).hasSize(10);
    assertThat(answers.stream().filter(r -> r.status() == 402)).hasSize(20)
        .allMatch(r -> r.errorCode().equals("insufficient_credits"));
    JsonObject b = app.balance("h-many");
    assertThat(b.getLong("held")).isEqualTo(100);
    assertThat(b.getLong("available")).isZero();
  }

  @Test
  void aCaptureRacingTheSweeperEitherCapturesOrFindsTheHoldExpired() throws Exception {
    app.user("h-sweep");
    app.grant("h-sweep", "h-sweep-p", "purchase", 1000);
    int n = 20;
    for (int i = 0; i < n; i++) {
      // one expiry a second, from 2 s on
      assertThat(hold("h-sweep", "h-sweep-" + i, 10, "PT" + (2 + i) + "S").status()).isEqualTo(201);
    }
    // the clock crosses the holds' expiries, a second every 2 ms, while the captures are in flight and the
    // sweeper runs every 50 ms
    Thread mover = new Thread(() -> {
      for (int k = 0; k < 30; k++) {
        app.clock.advance(Duration.ofSeconds(1));
        try {
          Thread.sleep(2);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    mover.start();
    List<Api.Response> answers = together(n, i -> capture("h-sweep", "h-sweep-" + i, "h-sweep-c" + i, 10));
    mover.join();
    int captured = 0;
    for (int i = 0; i < n; i++) {
      Api.Response r = answers.get(i);
      assertThat(r.status()).as(r.toString()).isIn(200, 409);
      String expected = r.status() == 200 ? "captured" : "expired";
      if (r.status() == 409) {
        assertThat(r.errorCode()).isEqualTo("hold_expired");
      } else {
        captured++;
      }
      awaitState("h-sweep", "h-sweep-" + i, expected);
    }
    JsonObject b = app.balance("h-sweep");
    assertThat(b.getLong("usageThisCycle")).as("each capture counted once").isEqualTo(10L * captured);
    assertThat(b.getLong("netBalance")).isEqualTo(1000 - 10L * captured);
    assertThat(b.getLong("held")).isZero();
  }

  @Test
  void theAuditFindsAnUncoveredHoldAndACaptureThatDoesNotMatchItsHold() {
    app.user("h-audit");
    app.grant("h-audit", "h-audit-p", "admin", 100);
    hold("h-audit", "h-audit-1", 30, null);
    capture("h-audit", "h-audit-1", "h-audit-c", 20);
    hold("h-audit", "h-audit-2", 80, null);
    // a revoke under an active hold leaves it uncovered: the audit says so (its capture would make debt)
    app.admin.post("/v1/grants/h-audit-p/revoke", new JsonObject().put("reason", "chargeback"));
    app.sql("UPDATE holds SET captured = 21 WHERE hold_id = 'h-audit-1'");
    try {
      JsonObject audit = app.admin.get("/v1/admin/audit?userId=h-audit").json();
      assertThat(audit.getBoolean("ok")).isFalse();
      assertThat(audit.getJsonArray("problems").stream().map(p -> ((JsonObject) p).getString("check")))
          .containsExactlyInAnyOrder("holds", "captures");
    } finally {
      app.sql("UPDATE holds SET captured = 20 WHERE hold_id = 'h-audit-1'");
      release("h-audit", "h-audit-2");
    }
  }

  @Test
  void theEventBusClientHoldsCapturesAndReleases() {
    app.user("h-bus");
    app.grant("h-bus", "h-bus-p", "purchase", 100);
    LedgerClient ledger = new LedgerClient(app.vertx);
    HoldAnswer placed = TestApp.await(ledger.hold("h-bus", "h-bus-1", 30, Duration.ofMinutes(5)));
    assertThat(placed.hold().state()).isEqualTo(Hold.State.HELD);
    assertThat(placed.balance().available()).isEqualTo(70);
    Capture capture = TestApp.await(ledger.capture("h-bus", "h-bus-1", "h-bus-c", 25));
    assertThat(capture.released()).isEqualTo(5);
    assertThat(capture.consumption().balance().netBalance()).isEqualTo(75);
    TestApp.await(ledger.hold("h-bus", "h-bus-2", 10, null));
    assertThat(TestApp.await(ledger.release("h-bus", "h-bus-2")).hold().state()).isEqualTo(Hold.State.RELEASED);
    assertThat(TestApp.await(ledger.holds("h-bus", null, 10))).extracting(Hold::holdId)
        .containsExactly("h-bus-2", "h-bus-1");
    assertThat(TestApp.await(ledger.getHold("h-bus", "h-bus-1")).captured()).isEqualTo(25);
    LedgerException closed = failureOf(ledger.capture("h-bus", "h-bus-2", "h-bus-c2", 1));
    assertThat(closed.code()).isEqualTo("hold_closed");
    assertThat(closed.status()).isEqualTo(409);
  }

  private static LedgerException failureOf(io.vertx.core.Future<?> future) {
    try {
      TestApp.await(future);
    } catch (LedgerException e) {
      return e;
    }
    throw new AssertionError("expected a failure");
  }

  /** The stored state (the sweeper writes expiries within HOLD_SWEEP_INTERVAL). */
  private static void awaitState(String userId, String holdId, String state) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String found = null;
    while (System.nanoTime() < deadline) {
      found = app.text("SELECT state FROM holds WHERE hold_id = '" + holdId + "' AND user_id = '" + userId + "'");
      if (state.equals(found)) {
        return;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    throw new AssertionError("hold " + holdId + " is " + found + ", expected " + state);
  }

  private static List<Api.Response> together(int n, IntFunction<Api.Response> request) throws Exception {
    return Together.run(pool, n, request);
  }

}
