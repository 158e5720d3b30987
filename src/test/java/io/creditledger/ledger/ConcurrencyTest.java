package io.creditledger.ledger;

import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.creditledger.support.Together;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntFunction;

import static org.assertj.core.api.Assertions.assertThat;

/** Many requests at once on one user: per-user serialization, no lost update, no double spend or grant. */
class ConcurrencyTest {
  static TestApp app;
  static ExecutorService pool;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(
      Map.of("FREE_GRANT_CREDITS", "0", "DATABASE_POOL_SIZE", "16"), started -> app = started);

  @BeforeAll
  static void startClients() {
    pool = Executors.newFixedThreadPool(50);
  }

  @AfterAll
  static void stopClients() {
    pool.shutdownNow();
  }

  private static List<Api.Response> together(int n, IntFunction<Api.Response> request) throws Exception {
    return Together.run(pool, n, request);
  }

  @Test
  void fiftyConcurrentIdenticalGrantsCreateOne() throws Exception {
    app.user("k-grant");
    List<Api.Response> answers = together(50, i -> app.grant("k-grant", "k-grant-op", "purchase", 500));
    assertThat(answers).allMatch(r -> r.status() == 201, "all answered 201");
    assertThat(answers.stream().map(Api.Response::json).distinct()).hasSize(1);
    assertThat(app.grants("k-grant")).hasSize(1);
    assertThat(app.balance("k-grant").getLong("totalRemaining")).isEqualTo(500);
  }

  @Test
  void manyParallelConsumesEndAtTheExactBalance() throws Exception {
    app.user("k-spend");
    app.grant("k-spend", "k-spend-g1", "free", 300);
    app.grant("k-spend", "k-spend-g2", "purchase", 700);
    List<Api.Response> answers = together(100, i -> app.consume("k-spend", "k-spend-c" + i, 7));
    assertThat(answers).allMatch(r -> r.status() == 200);
    JsonObject b = app.balance("k-spend");
    assertThat(b.getLong("totalRemaining")).isEqualTo(300);
    assertThat(b.getLong("usageThisCycle")).isEqualTo(700);
    assertThat(answers.stream().mapToLong(r -> r.json().getLong("fromPurchased")).sum()).isEqualTo(400);
  }

  @Test
  void racingPastTheCreditsSpendsExactlyWhatTheRulesAllow() throws Exception {
    app.user("k-race");
    app.grant("k-race", "k-race-g", "purchase", 100);
    List<Api.Response> answers = together(40, i -> app.consume("k-race", "k-race-c" + i, 10));
    // 10 consumptions are covered; the 11th goes 10 into debt (within MAX_DEBT); after that debt blocks
    assertThat(answers.stream().filter(r -> r.status() == 200)).hasSize(11);
    assertThat(answers.stream().filter(r -> r.status() == 402)).hasSize(29);
    JsonObject b = app.balance("k-race");
    assertThat(b.getLong("netBalance")).isEqualTo(-10);
    assertThat(b.getLong("usageThisCycle")).isEqualTo(110);
  }

  @Test
  void concurrentDuplicatesOfOneConsumptionApplyOnce() throws Exception {
    app.user("k-dup");
    app.grant("k-dup", "k-dup-g", "purchase", 100);
    List<Api.Response> answers = together(30, i -> app.consume("k-dup", "k-dup-c", 25));
    assertThat(answers).allMatch(r -> r.status() == 200);
    assertThat(answers.stream().map(Api.Response::json).distinct()).hasSize(1);
    assertThat(app.balance("k-dup").getLong("totalRemaining")).isEqualTo(75);
  }

  @Test
  void oneOperationIdRacedAcrossTwoUsersLandsOnce() throws Exception {
    app.user("k-u1");
    app.user("k-u2");
    List<Api.Response> answers = together(20, i -> app.grant(i % 2 == 0 ? "k-u1" : "k-u2", "k-shared", "purchase", 9));
    assertThat(answers.stream().filter(r -> r.status() == 201)).hasSize(10);
    assertThat(answers.stream().filter(r -> r.status() == 409)).hasSize(10);
    assertThat(app.grants("k-u1").size() + app.grants("k-u2").size()).isEqualTo(1);
  }
}
