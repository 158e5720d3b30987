package io.creditledger.ledger;

import io.creditledger.api.LedgerClient;
import io.creditledger.domain.Consumption;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.GrantView;
import io.creditledger.error.LedgerException;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The write path commits many operations in one transaction and still answers each one for itself: refusals,
 * replays and conflicts decided per operation, a poisoned operation failing alone, and a connection lost during the
 * commit leaving each operation applied exactly once after the retry.
 */
class GroupCommitTest {
  static TestApp app;

  /** One batch at a time, so operations sent together queue behind the first and share the next transaction. */
  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "0",
      "LEDGER_BATCH_CONCURRENCY", "1", "LEDGER_BATCH_SIZE", "64"), started -> app = started);

  @BeforeAll
  static void faults() {
    // an operation named poison-* fails every time it is written; the first commit of a batch holding a kill-*
    // operation loses its connection in the middle of the commit (a deferred trigger runs at COMMIT; a sequence,
    // which no rollback undoes, makes it happen once)
    app.sql("CREATE SEQUENCE kill_seq");
    app.sql("CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "IF NEW.operation_id LIKE 'poison-%' THEN RAISE EXCEPTION 'poisoned operation %', NEW.operation_id; END IF; "
        + "RETURN NEW; END $$");
    app.sql("CREATE TRIGGER poison BEFORE INSERT ON journal FOR EACH ROW EXECUTE FUNCTION poison()");
    app.sql("CREATE FUNCTION kill_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "IF NEW.operation_id LIKE 'kill-%' AND nextval('kill_seq') = 1 THEN "
        + "  PERFORM pg_terminate_backend(pg_backend_pid()); END IF; "
        + "RETURN NEW; END $$");
    app.sql("CREATE CONSTRAINT TRIGGER kill_at_commit AFTER INSERT ON operations DEFERRABLE INITIALLY DEFERRED "
        + "FOR EACH ROW EXECUTE FUNCTION kill_at_commit()");
  }

  private static LedgerClient client() {
    return new LedgerClient(app.vertx);
  }

  /** Sends every consumption at once and waits for all the answers; a refusal is its exception. */
  private static List<Object> consumeAll(List<String[]> requests) {
    LedgerClient ledger = client();
    List<Future<Object>> answers = new ArrayList<>();
    for (String[] r : requests) {
      answers.add(ledger.consume(r[0], r[1], Long.parseLong(r[2])).map(c -> (Object) c)
          .recover(e -> Future.succeededFuture(e)));
    }
    return TestApp.await(Future.all(answers).map(all -> {
      List<Object> out = new ArrayList<>();
      answers.forEach(a -> out.add(a.result()));
      return out;
    }));
  }

  private static void purchase(String userId, long credits) {
    app.user(userId);
    assertThat(app.grant(userId, userId + "-p", "purchase", credits).status()).isEqualTo(201);
  }

  @Test
  void operationsSentTogetherShareATransactionAndAreEachAnsweredForThemselves() {
    purchase("gc-a", 100);
    purchase("gc-b", 10);
    List<String[]> requests = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      requests.add(new String[] {"gc-a", "gc-a-" + i, "5"});
    }
    requests.add(new String[] {"gc-b", "gc-b-1", "500"});   // beyond MAX_DEBT: 402
    requests.add(new String[] {"gc-a", "gc-a-3", "5"});     // a replay of an operation of this batch
    requests.add(new String[] {"gc-a", "gc-a-4", "7"});     // the same id, another amount: 409
    requests.add(new String[] {"gc-nobody", "gc-n-1", "1"}); // no such user: 404
    requests.add(new String[] {"gc-b", "gc-b-2", "10"});

    List<Object> answers = consumeAll(requests);

    for (int i = 0; i < 10; i++) {
      assertThat(answers.get(i)).as("consumption " + i).isInstanceOf(Consumption.class);
      assertThat(((Consumption) answers.get(i)).balance().totalRemaining()).isEqualTo(100 - 5L * (i + 1));
    }
    assertThat(((LedgerException) answers.get(10)).code()).isEqualTo("insufficient_credits");
    assertThat(((Consumption) answers.get(11)).balance().totalRemaining()).as("the replay answers as the first did")
        .isEqualTo(80);
    assertThat(((LedgerException) answers.get(12)).code()).isEqualTo("operation_conflict");
    assertThat(((LedgerException) answers.get(13)).code()).isEqualTo("user_not_found");
    assertThat(((Consumption) answers.get(14)).balance().totalRemaining()).isZero();

    assertThat(app.balance("gc-a").getLong("totalRemaining")).isEqualTo(50);
    assertThat(app.balance("gc-a").getLong("usageThisCycle")).isEqualTo(50);
    assertThat(app.balance("gc-b").getLong("totalRemaining")).isZero();
    assertThat(app.number("SELECT count(*) FROM journal WHERE operation_id ~ '^gc-[ab]-' AND kind = 'consume'"))
        .isEqualTo(11);
    assertThat(app.number("SELECT count(DISTINCT xmin::text) FROM journal WHERE operation_id ~ '^gc-[ab]-' "
        + "AND kind = 'consume'")).as("transactions that wrote the 11 consumptions").isLessThanOrEqualTo(3);
  }

  @Test
  void aPoisonedOperationFailsAloneAndTheRestOfItsBatchLands() {
    purchase("gc-p", 1000);
    List<String[]> requests = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      requests.add(new String[] {"gc-p", (i == 7 ? "poison-" : "gc-p-") + i, "10"});
    }

    List<Object> answers = consumeAll(requests);

    for (int i = 0; i < 12; i++) {
      if (i == 7) {
        assertThat(answers.get(i)).isInstanceOf(LedgerException.class);
        assertThat(((LedgerException) answers.get(i)).status()).isEqualTo(500);
      } else {
        assertThat(answers.get(i)).as("consumption " + i).isInstanceOf(Consumption.class);
      }
    }
    assertThat(app.balance("gc-p").getLong("totalRemaining")).isEqualTo(1000 - 11 * 10);
    assertThat(app.number("SELECT count(*) FROM operations WHERE operation_id LIKE 'poison-%'")).isZero();
  }

  @Test
  void aConnectionLostDuringTheCommitLeavesEachOperationAppliedOnceAfterTheRetry() {
    purchase("gc-k", 1000);
    List<String[]> requests = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      requests.add(new String[] {"gc-k", "kill-" + i, "10"});
    }

    List<Object> answers = consumeAll(requests);

    assertThat(app.number("SELECT last_value FROM kill_seq")).as("the killed commit ran the trigger before the retry")
        .isGreaterThan(8);
    answers.forEach(a -> assertThat(a).isInstanceOf(Consumption.class));
    assertThat(app.balance("gc-k").getLong("totalRemaining")).isEqualTo(1000 - 8 * 10);
    assertThat(app.number("SELECT count(*) FROM journal WHERE operation_id LIKE 'kill-%'")).isEqualTo(8);

    // and each retry of an answered operation replays, never applies again
    List<Object> again = consumeAll(requests);
    again.forEach(a -> assertThat(a).isInstanceOf(Consumption.class));
    assertThat(app.balance("gc-k").getLong("totalRemaining")).isEqualTo(1000 - 8 * 10);
  }

  @Test
  void grantsAndConsumptionsOfOneUserInOneBatchKeepTheirOrder() {
    app.user("gc-g");
    LedgerClient ledger = client();
    Future<Consumption> first = ledger.consume("gc-g", "gc-g-c0", 5).recover(e -> Future.succeededFuture());
    Future<?> grant = ledger.grant("gc-g", "gc-g-p", GrantType.PURCHASE, 50, null, null);
    Future<Consumption> after = ledger.consume("gc-g", "gc-g-c1", 20);
    Future<Object> refused = ledger.grant("gc-g", "gc-g-p", GrantType.PURCHASE, 60, null, null).map(g -> (Object) g)
        .recover(e -> Future.succeededFuture(e));
    Future<Consumption> last = ledger.consume("gc-g", "gc-g-c2", 20);
    TestApp.await(Future.join(List.of(first, grant, after, refused, last)));

    assertThat(first.result()).as("nothing to consume before the grant").isNull();
    assertThat(after.result().balance().totalRemaining()).isEqualTo(30);
    assertThat(((LedgerException) refused.result()).code()).isEqualTo("operation_conflict");
    assertThat(last.result().balance().totalRemaining()).isEqualTo(10);
    assertThat(app.balance("gc-g").getLong("totalRemaining")).isEqualTo(10);
  }

  @Test
  void grantsDecidedInABatchSettleDebtAndAreReplayedOrRefusedForThemselves() {
    app.user("gc-d");
    assertThat(app.grant("gc-d", "gc-d-p", "purchase", 10).status()).isEqualTo(201);
    assertThat(app.consume("gc-d", "gc-d-c0", 40).status()).as("into debt").isEqualTo(200);
    LedgerClient ledger = client();
    Future<GrantView> settles = ledger.grant("gc-d", "gc-d-g1", GrantType.PURCHASE, 50, "top-up", null);
    Future<Consumption> spends = ledger.consume("gc-d", "gc-d-c1", 5);
    Future<GrantView> replay = ledger.grant("gc-d", "gc-d-g1", GrantType.PURCHASE, 50, "top-up", null);
    Future<Object> conflict = ledger.grant("gc-d", "gc-d-g1", GrantType.PURCHASE, 51, "top-up", null)
        .map(g -> (Object) g).recover(e -> Future.succeededFuture(e));
    Future<Object> pastExpiry = ledger.grant("gc-d", "gc-d-g2", GrantType.ADMIN, 5, null,
        app.clock.instant().minusSeconds(1)).map(g -> (Object) g).recover(e -> Future.succeededFuture(e));
    TestApp.await(Future.join(List.of(settles, spends, replay, conflict, pastExpiry)));

    assertThat(settles.result().balance()).as("30 of the 50 paid the debt").isEqualTo(20);
    assertThat(settles.result().description()).contains("cleared 30 credits of debt");
    assertThat(spends.result().balance().totalRemaining()).isEqualTo(15);
    assertThat(replay.result().grantId()).isEqualTo(settles.result().grantId());
    assertThat(((LedgerException) conflict.result()).code()).isEqualTo("operation_conflict");
    assertThat(((LedgerException) pastExpiry.result()).code()).isEqualTo("invalid_field");
    assertThat(app.balance("gc-d").getLong("totalDebt")).isZero();
    assertThat(app.balance("gc-d").getLong("totalRemaining")).isEqualTo(15);
    assertThat(app.number("SELECT count(*) FROM grants WHERE user_id = 'gc-d'")).isEqualTo(2);
    assertThat(app.number("SELECT count(*) FROM journal WHERE operation_id = 'gc-d-g1' AND kind = 'debt_settlement'"))
        .isEqualTo(2);
  }

  @Test
  void aReplayIsAnsweredAsStoredEvenWhenTheSameConsumptionWouldNowBeRefused() {
    purchase("gc-r", 20);
    assertThat(app.consume("gc-r", "gc-r-1", 20).status()).isEqualTo(200);
    assertThat(app.consume("gc-r", "gc-r-2", 50).status()).as("into debt").isEqualTo(200);

    List<Object> answers = consumeAll(List.of(new String[] {"gc-r", "gc-r-1", "20"},
        new String[] {"gc-r", "gc-r-3", "1"}));

    assertThat(answers.get(0)).as("the replay").isInstanceOf(Consumption.class);
    assertThat(((Consumption) answers.get(0)).consumed()).isEqualTo(20);
    assertThat(((LedgerException) answers.get(1)).code()).isEqualTo("debt_outstanding");
  }

  /**
   * The statements check what they changed themselves (the batch sends COMMIT right behind them): a grant whose
   * balance is not what its user's lock read fails the balance update, and nothing of that operation lands.
   */
  @Test
  void aBalanceThatDoesNotChangeAsDecidedFailsItsOperationAndNothingOfItLands() {
    purchase("gc-skew", 100);
    purchase("gc-even", 100);
    app.sql("CREATE FUNCTION skip_balance() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$");
    app.sql("CREATE TRIGGER skip_balance BEFORE UPDATE ON grants FOR EACH ROW "
        + "WHEN (OLD.user_id = 'gc-skew') EXECUTE FUNCTION skip_balance()");
    try {
      List<Object> answers = consumeAll(List.of(new String[] {"gc-even", "gc-even-1", "10"},
          new String[] {"gc-skew", "gc-skew-1", "10"}, new String[] {"gc-even", "gc-even-2", "10"}));

      assertThat(answers.get(0)).isInstanceOf(Consumption.class);
      assertThat(((LedgerException) answers.get(1)).status()).isEqualTo(500);
      assertThat(answers.get(2)).isInstanceOf(Consumption.class);
    } finally {
      app.sql("DROP TRIGGER skip_balance ON grants");
    }
    assertThat(app.number("SELECT count(*) FROM operations WHERE operation_id = 'gc-skew-1'")).isZero();
    assertThat(app.number("SELECT count(*) FROM journal WHERE operation_id = 'gc-skew-1'")).isZero();
    assertThat(app.balance("gc-skew").getLong("usageThisCycle")).isZero();
    assertThat(app.balance("gc-even").getLong("totalRemaining")).isEqualTo(80);
  }

  /** A batch's statements run with generic plans (PostgreSQL otherwise planned some of them again at every execution). */
  @Test
  void aBatchRunsItsStatementsWithGenericPlans() {
    app.sql("CREATE TABLE plan_modes (operation_id text, mode text)");
    app.sql("CREATE FUNCTION note_plan_mode() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + "INSERT INTO plan_modes VALUES (NEW.operation_id, current_setting('plan_cache_mode')); RETURN NEW; END $$");
    app.sql("CREATE TRIGGER note_plan_mode BEFORE INSERT ON operations FOR EACH ROW "
        + "WHEN (NEW.operation_id LIKE 'plan-%') EXECUTE FUNCTION note_plan_mode()");
    purchase("gc-plan", 10);
    List<Object> answers = consumeAll(List.<String[]>of(new String[] {"gc-plan", "plan-1", "1"}));
    assertThat(answers.get(0)).isInstanceOf(Consumption.class);
    assertThat(app.text("SELECT mode FROM plan_modes WHERE operation_id = 'plan-1'")).isEqualTo("force_generic_plan");
  }
}
