package io.creditledger.reset;

import io.creditledger.api.LedgerClient;
import io.creditledger.support.MutableClock;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestDatabase;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static io.creditledger.support.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Resets on their timer, and with several instances on one database. */
class ResetSchedulingTest {

  @Test
  void theTimerResetsUsersOnAShortCycleWithoutBeingAsked() {
    try (TestApp app = TestApp.start(Map.of("RESET_CYCLE", "PT1S", "RESET_SCAN_INTERVAL", "PT0.2S",
        "FREE_GRANT_CREDITS", "10"), TestDatabase.fresh(), MutableClock.ticking(Instant.parse("2026-01-15T10:00:00Z")))) {
      app.user("t-timer");
      await("three cycles went by", Duration.ofSeconds(20),
          () -> app.grants("t-timer").stream().filter(g -> ((JsonObject) g).getString("type").equals("free")).count() >= 3);
      assertThat(app.balance("t-timer").getJsonObject("breakdown").getLong("free"))
          .as("only the current cycle's free grant counts").isEqualTo(10);
    }
  }

  @Test
  void twoInstancesOnOneDatabaseResetEachUserExactlyOncePerCycle() throws Exception {
    Map<String, String> settings = Map.of("RESET_SCAN_INTERVAL", "PT0.05S", "RESET_BATCH_SIZE", "5",
        "RESET_CONCURRENCY", "2", "RESET_BATCH_PAUSE", "PT0S", "FREE_GRANT_CREDITS", "10");
    MutableClock clockA = new MutableClock(Instant.parse("2026-01-15T10:00:00Z"));
    MutableClock clockB = new MutableClock(Instant.parse("2026-01-15T10:00:00Z"));
    try (TestApp a = TestApp.start(settings, TestDatabase.fresh(), clockA);
         TestApp b = TestApp.start(settings, a.database, clockB)) {
      int users = 80;
      for (int i = 0; i < users; i++) {
        (i % 2 == 0 ? a : b).user("t-two-" + i);
      }
      Instant due = Instant.parse("2026-02-15T10:00:00Z");
      clockA.set(due);
      clockB.set(due);
      // both timers scan every 50 ms, and both instances are also asked to run now, all at once
      CompletableFuture<Integer> runA = new LedgerClient(a.vertx).runDueResets(60_000).toCompletionStage().toCompletableFuture();
      CompletableFuture<Integer> runB = new LedgerClient(b.vertx).runDueResets(60_000).toCompletionStage().toCompletableFuture();
      runA.get();
      runB.get();
      await("every user reset", Duration.ofSeconds(20),
          () -> a.number("SELECT count(*) FROM users WHERE next_quota_reset > '" + due + "'") == users);
      assertThat(a.number("SELECT count(*) FROM operations WHERE kind = 'reset'")).isEqualTo(users);
      assertThat(a.number("SELECT count(*) FROM grants WHERE type = 'free' AND expires_at = '2026-03-15T10:00:00Z'"))
          .isEqualTo(users);
      assertThat(a.number("SELECT count(DISTINCT user_id) FROM grants WHERE type = 'free' "
          + "AND expires_at = '2026-03-15T10:00:00Z'")).isEqualTo(users);
    }
  }
  @Test
  void aDrainGivesUpEveryClaimAndClaimsNoFasterThanThePauseAllows() throws Exception {
    // batches of 4 for 3 lanes: 40 users take 10 claims, so 9 pauses of 150 ms lie between the first and the last
    Map<String, String> settings = Map.of("RESET_SCAN_INTERVAL", "PT1H", "RESET_BATCH_SIZE", "4",
        "RESET_CONCURRENCY", "3", "RESET_BATCH_PAUSE", "PT0.15S", "FREE_GRANT_CREDITS", "10");
    MutableClock clock = new MutableClock(Instant.parse("2026-01-15T10:00:00Z"));
    try (TestApp app = TestApp.start(settings, TestDatabase.fresh(), clock)) {
      int users = 40;
      for (int i = 0; i < users; i++) {
        app.user("t-pace-" + i);
      }
      clock.set(Instant.parse("2026-02-15T10:00:00Z"));
      long started = System.nanoTime();
      int reset = new LedgerClient(app.vertx).runDueResets(60_000).toCompletionStage().toCompletableFuture().get();
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      assertThat(reset).isEqualTo(users);
      assertThat(took).as("ten claims, each at least 150 ms after the one before").isGreaterThan(Duration.ofMillis(1350));
      assertThat(app.number("SELECT count(*) FROM operations WHERE kind = 'reset'")).isEqualTo(users);
      assertThat(app.number("SELECT count(*) FROM reset_claims WHERE claimed_until <> '-infinity'"))
          .as("every claim given up once its user was reset").isZero();
    }
  }
}
