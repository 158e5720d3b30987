package io.creditledger.ledger;

import io.creditledger.support.Api;
import io.creditledger.support.Eventually;
import io.creditledger.support.SqlSession;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A ledger whose connections are all taken answers {@code 503 ledger_busy} with {@code Retry-After} within its
 * acquisition deadline, changes nothing for the refused request, and serves it normally once retried.
 */
class SaturationTest {
  private static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("DATABASE_POOL_SIZE", "1",
      "DATABASE_POOL_MAX_WAITING", "4", "DATABASE_ACQUIRE_TIMEOUT", "PT0.3S", "FREE_GRANT_CREDITS", "0"),
      started -> app = started);

  @BeforeAll
  static void seed() {
    app.user("held");
    app.user("other");
    assertThat(app.grant("held", "g-held", "purchase", 100).status()).isEqualTo(201);
    assertThat(app.grant("other", "g-other", "purchase", 100).status()).isEqualTo(201);
  }

  @Test
  void aRequestThatCannotGetAConnectionInTimeIsBusyWithRetryAfterAndChangesNothing() throws Exception {
    CompletableFuture<Api.Response> stuck;
    try (SqlSession locker = app.db()) {
      locker.connection().setAutoCommit(false);
      locker.execute("SELECT 1 FROM users WHERE user_id = 'held' FOR UPDATE");
      // the pool's only connection now waits for that row lock inside a consume of "held"
      stuck = CompletableFuture.supplyAsync(() -> app.consume("held", "c-held", 10));
      Eventually.await("the consume waits for the row lock", Duration.ofSeconds(10), () -> app.number(
          "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()") == 1);

      long started = System.nanoTime();
      Api.Response busy = app.consume("other", "c-other", 10);
      Duration waited = Duration.ofNanos(System.nanoTime() - started);

      assertThat(busy.status()).as(busy.toString()).isEqualTo(503);
      assertThat(busy.errorCode()).isEqualTo("ledger_busy");
      assertThat(busy.header("Retry-After")).isEqualTo("1");
      assertThat(waited).as("answered within the deadline, not the 30 s event-bus timeout")
          .isLessThan(Duration.ofSeconds(5));
      locker.connection().rollback();
    }
    assertThat(stuck.get().status()).as("the held consume completes once the lock goes").isEqualTo(200);

    assertThat(app.balance("other").getLong("netBalance")).as("the refused consume changed nothing").isEqualTo(100);
    assertThat(app.number("SELECT count(*) FROM operations WHERE operation_id = 'c-other'")).isZero();
    Api.Response retried = app.consume("other", "c-other", 10);
    assertThat(retried.status()).as(retried.toString()).isEqualTo(200);
    assertThat(app.balance("other").getLong("netBalance")).isEqualTo(90);
  }
}
