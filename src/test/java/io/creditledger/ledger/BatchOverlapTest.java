package io.creditledger.ledger;

import io.creditledger.support.Api;
import io.creditledger.support.Eventually;
import io.creditledger.support.Prometheus;
import io.creditledger.support.SqlSession;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With a batch in flight, the next one starts beside it only once {@code LEDGER_BATCH_OVERLAP_MIN} operations wait:
 * fewer wait for the running batch, and then they all go in one transaction of their own.
 */
class BatchOverlapTest {
  private static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("LEDGER_BATCH_CONCURRENCY", "2",
      "LEDGER_BATCH_OVERLAP_MIN", "3", "DATABASE_ACQUIRE_TIMEOUT", "PT20S", "FREE_GRANT_CREDITS", "0"),
      started -> app = started);

  @BeforeAll
  static void seed() {
    for (String user : List.of("ov-held", "ov-1", "ov-2", "ov-3")) {
      app.user(user);
      assertThat(app.grant(user, user + "-p", "purchase", 100).status()).isEqualTo(201);
    }
  }

  @Test
  void aSecondBatchStartsBesideARunningOneOnlyWhenEnoughOperationsWait() throws Exception {
    CompletableFuture<Api.Response> stuck;
    try (SqlSession locker = app.db()) {
      locker.connection().setAutoCommit(false);
      locker.execute("SELECT 1 FROM users WHERE user_id = 'ov-held' FOR UPDATE");
      // the first batch now waits for that row lock
      stuck = CompletableFuture.supplyAsync(() -> app.consume("ov-held", "ov-c-held", 10));
      Eventually.await("the first batch waits for the row lock", Duration.ofSeconds(10), () -> app.number(
          "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()") == 1);

      CompletableFuture<Api.Response> first = CompletableFuture.supplyAsync(() -> app.consume("ov-1", "ov-c-1", 1));
      CompletableFuture<Api.Response> second = CompletableFuture.supplyAsync(() -> app.consume("ov-2", "ov-c-2", 1));
      Eventually.await("two operations wait in the writer's queue", Duration.ofSeconds(10),
          () -> gauge("ledger_write_queue") == 2);
      assertThat(gauge("ledger_write_batches")).as("only the stuck batch is in flight").isEqualTo(1);
      Thread.sleep(500);
      assertThat(gauge("ledger_write_queue")).as("two waiting operations do not start a batch beside the running one")
          .isEqualTo(2);
      assertThat(app.number("SELECT count(*) FROM operations WHERE operation_id LIKE 'ov-c-%'")).isZero();
      assertThat(first).isNotDone();

      CompletableFuture<Api.Response> third = CompletableFuture.supplyAsync(() -> app.consume("ov-3", "ov-c-3", 1));
      for (CompletableFuture<Api.Response> answer : List.of(first, second, third)) {
        assertThat(answer.get().status()).as(answer.get().toString()).isEqualTo(200);
      }
      assertThat(stuck).as("the first batch still waits for the lock").isNotDone();
      assertThat(app.number("SELECT count(DISTINCT xmin::text) FROM operations WHERE operation_id IN "
          + "('ov-c-1', 'ov-c-2', 'ov-c-3')")).as("the three went in one transaction").isEqualTo(1);
      locker.connection().rollback();
    }
    assertThat(stuck.get().status()).as("the held consume completes once the lock goes").isEqualTo(200);
    assertThat(app.balance("ov-held").getLong("netBalance")).isEqualTo(90);
    assertThat(app.balance("ov-3").getLong("netBalance")).isEqualTo(99);
  }

  /** A write-path gauge as GET /metrics shows it. */
  private static long gauge(String name) {
    Api.Response metrics = app.admin.get("/metrics");
    assertThat(metrics.status()).isEqualTo(200);
    Double value = Prometheus.value(metrics.text(), name);
    assertThat(value).as(name + " in /metrics").isNotNull();
    assertThat(value).as(name + " reads the writer (NaN: its state was collected)").isNotNaN();
    return value.longValue();
  }
}
