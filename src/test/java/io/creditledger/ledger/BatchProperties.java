package io.creditledger.ledger;

import io.creditledger.api.Addresses;
import io.creditledger.api.LedgerClient;
import io.creditledger.domain.GrantType;
import io.creditledger.error.LedgerException;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * The batched write path against the reference model of {@link CyclesProperties}: random sequences of grants,
 * consumptions (into debt and refused), replays and revokes are sent in groups of random size without waiting, so
 * the writer cuts them into batches at random places (at most {@value #BATCH} operations each, one batch at a time,
 * in arrival order). Every answer, and after each group every grant's balance and state and the cycle's usage, must
 * be what the model says for the same sequence applied one by one.
 */
class BatchProperties {
  static final int BATCH = 4;
  static final Instant EPOCH = Instant.parse("2028-01-01T00:00:00Z");

  static TestApp app;
  static LedgerClient client;
  static final AtomicInteger examples = new AtomicInteger();

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of(
      "FREE_GRANT_CREDITS", Long.toString(CyclesProperties.FREE), "MAX_DEBT", Long.toString(CyclesProperties.MAX_DEBT),
      "RESET_CYCLE", "PT1H", "RESET_SCAN_INTERVAL", "PT24H",
      "LEDGER_BATCH_SIZE", Integer.toString(BATCH), "LEDGER_BATCH_CONCURRENCY", "1"), started -> app = started);

  @BeforeAll
  static void connect() {
    client = new LedgerClient(app.vertx);
  }

  sealed interface Step permits Grant, Consume, Replay, Revoke {
  }

  record Grant(GrantType type, long amount) implements Step {
  }

  record Consume(long amount) implements Step {
  }

  /** The consumption {@code back} steps before this one, sent again as it was. */
  record Replay(int back) implements Step {
  }

  record Revoke(int pick) implements Step {
  }

  static Gen<List<Step>> steps() {
    Gen<Step> grant = Generate.pick(List.of(GrantType.FREE, GrantType.REFERRAL, GrantType.PURCHASE, GrantType.ADMIN))
        .zip(longs().between(1, 200), Grant::new);
    Gen<Step> consume = longs().between(1, 250).map(Consume::new);
    Gen<Step> replay = integers().between(1, 6).map(Replay::new);
    Gen<Step> revoke = integers().between(0, 20).map(Revoke::new);
    return lists().of(Generate.frequency(List.of(Pair.of(3, grant), Pair.of(6, consume), Pair.of(1, replay),
        Pair.of(1, revoke)))).ofSizeBetween(1, 40);
  }

  @Test
  void batchesOfAnyShapeAgreeWithTheModel() {
    qt().withExamples(Integer.getInteger("properties.examples", 40)).withShrinkCycles(30)
        .forAll(steps(), lists().of(integers().between(1, 10)).ofSizeBetween(1, 10))
        .checkAssert(BatchProperties::run);
  }

  /** A step as sent: its operationId, the model's expectation, and the ledger's answer. */
  private record Sent(String where, Object expected, Future<Object> actual) {
  }

  static void run(List<Step> steps, List<Integer> groups) {
    int example = examples.incrementAndGet();
    Instant now = EPOCH.plus(Duration.ofDays(30L * example));
    app.clock.set(now);
    String user = "batch-" + example;
    TestApp.await(client.putUser(user, user + "@example.com", null, null));
    CyclesProperties.Model model = new CyclesProperties.Model(user, now);
    List<CyclesProperties.MGrant> made = new ArrayList<>(model.grants);
    List<String> consumed = new ArrayList<>();
    int next = 0;
    int group = 0;
    while (next < steps.size()) {
      int size = groups.get(group++ % groups.size());
      List<Sent> sent = new ArrayList<>();
      for (int k = next; k < Math.min(steps.size(), next + size); k++) {
        sent.add(send(model, steps.get(k), user, user + "-" + (k + 1), made, consumed, now,
            "step " + (k + 1) + " " + steps.get(k) + " of " + steps + " in groups " + groups));
      }
      next += size;
      TestApp.await(Future.join(sent.stream().map(Sent::actual).toList()).otherwiseEmpty());
      for (Sent s : sent) {
        assertThat(s.actual().result()).as(s.where()).isEqualTo(s.expected());
      }
      CyclesProperties.compare(client, model, user, now, "after group " + group + " of " + steps + " in groups " + groups);
    }
  }

  /** Applies {@code step} to the model and sends it to the ledger without waiting. */
  private static Sent send(CyclesProperties.Model model, Step step, String user, String op,
                           List<CyclesProperties.MGrant> made, List<String> consumed, Instant now, String where) {
    if (step instanceof Grant g) {
      Instant expires = g.type().expiresAtReset() ? model.nextReset : null;
      made.add(model.write(op, g.type(), g.amount(), expires, now));
      return new Sent(where, g.amount(), client.grant(user, op, g.type(), g.amount(), null, null)
          .map(view -> (Object) view.principal()));
    }
    if (step instanceof Consume c) {
      Object expected = model.consume(c.amount(), now);
      if (expected instanceof Long) {
        consumed.add(op + ":" + c.amount() + ":" + expected);
      }
      return new Sent(where, expected, outcome(client.consume(user, op, c.amount()).map(x -> x.fromPurchased())));
    }
    if (step instanceof Replay r) {
      if (consumed.isEmpty()) {
        return new Sent(where, null, Future.succeededFuture(null));
      }
      String[] earlier = consumed.get(Math.max(0, consumed.size() - r.back())).split(":");
      return new Sent(where, Long.parseLong(earlier[2]), outcome(client.consume(user, earlier[0],
          Long.parseLong(earlier[1])).map(x -> x.fromPurchased())));
    }
    Revoke v = (Revoke) step;
    CyclesProperties.MGrant target = made.get(v.pick() % made.size());
    long expected = model.revoke(target);
    return new Sent(where, expected, client.request(Addresses.GRANT_REVOKE,
        new JsonObject().put("operationId", target.operationId).put("reason", "property"))
        .map(reply -> (Object) reply.body().getLong("revoked")));
  }

  /** A consumption's answer: the credits taken from purchases, or the refusal's code. */
  private static Future<Object> outcome(Future<Long> answer) {
    return answer.map(x -> (Object) x).recover(e -> e instanceof LedgerException le
        ? Future.succeededFuture(le.code()) : Future.failedFuture(e));
  }
}
