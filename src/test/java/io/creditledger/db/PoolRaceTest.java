package io.creditledger.db;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.creditledger.support.TestApp.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pool race of Vert.x 5.0.x (eclipse-vertx/vert.x#6169): a waiter's acquisition timeout firing while a
 * recycled connection is handed to it completes the waiter twice ("Promise already completed", reported as an
 * unhandled exception), and can leak the connection or orphan the request. Thousands of short waits on a tiny
 * pool with a deadline about as long as a transaction, from four event loops at once, keep deadlines expiring
 * while connections are handed over. {@link DatabasePool} must show no unhandled exception, answer every
 * request, and still hand out all its connections afterwards.
 */
class PoolRaceTest {
  private static final int POOL_SIZE = 2;
  private static final int LOOPS = 4;
  private static final int ROUNDS = 40;
  private static final int BURST = 40;
  /** About a transaction's length here, so deadlines fire while connections are being handed over. */
  private static final Duration DEADLINE = Duration.ofMillis(20);

  private Vertx vertx;
  private final ConcurrentLinkedQueue<Throwable> unhandled = new ConcurrentLinkedQueue<>();
  private DatabaseUrl db;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(LOOPS));
    vertx.exceptionHandler(unhandled::add);
    db = TestDatabase.fresh();
  }

  @AfterEach
  void stop() {
    await(vertx.close());
  }

  @Test
  void shortWaitsRacingHandoversNeverCompleteTwiceLeakOrHang() {
    DatabasePool pool = DatabasePool.create(vertx, db.connectOptions(), POOL_SIZE, 100_000, DEADLINE);
    Outcomes outcomes = new Outcomes();

    await(vertx.deployVerticle(() -> new Hammer(pool, outcomes), new DeploymentOptions().setInstances(LOOPS)));
    await(outcomes.allAnswered.future().timeout(2, TimeUnit.MINUTES));
    await(vertx.timer(2 * DEADLINE.toMillis())); // a timer orphaned by the race would fire by now

    assertThat(outcomes.other).as("failures other than busy").isEmpty();
    assertThat(outcomes.ok.get() + outcomes.busy.get()).as("every request is answered")
        .isEqualTo(LOOPS * ROUNDS * BURST);
    assertThat(outcomes.busy.get()).as("the deadline did fire, so the race window was exercised").isPositive();
    assertThat(unhandled).as("unhandled exceptions").isEmpty();
    assertThat(await(allConnectionsAtOnce(pool))).as("no connection leaked").isEqualTo(POOL_SIZE);
  }

  @Test
  void aFullWaitQueueIsBusyAtOnce() {
    DatabasePool pool = DatabasePool.create(vertx, db.connectOptions(), 1, 1, Duration.ofSeconds(30));
    SqlConnection held = await(pool.getConnection());
    Future<SqlConnection> waiting = pool.getConnection();
    long started = System.nanoTime();
    Throwable refused = awaitFailure(pool.getConnection());
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    assertThat(DbErrors.isPoolBusy(refused)).as(String.valueOf(refused)).isTrue();

    await(held.close());
    await(await(waiting).close());
    assertThat(await(allConnectionsAtOnce(pool))).isEqualTo(1);
  }

  @Test
  void aWaitPastTheDeadlineIsBusyAndItsConnectionGoesBack() {
    DatabasePool pool = DatabasePool.create(vertx, db.connectOptions(), 1, 10, Duration.ofMillis(200));
    SqlConnection held = await(pool.getConnection());
    Throwable late = awaitFailure(pool.getConnection());
    assertThat(DbErrors.isPoolBusy(late)).as(String.valueOf(late)).isTrue();

    await(held.close()); // handed to the late waiter, which must give it straight back
    assertThat(await(allConnectionsAtOnce(pool))).isEqualTo(1);
  }

  /** Takes every connection of the pool at the same time and holds them until all are taken. */
  private Future<Integer> allConnectionsAtOnce(Pool pool) {
    List<Future<SqlConnection>> taking = new ArrayList<>();
    for (int i = 0; i < pool.size(); i++) {
      taking.add(connection(pool));
    }
    return Future.all(taking).timeout(10, TimeUnit.SECONDS).compose(all -> {
      List<SqlConnection> connections = all.list();
      return Future.all(connections.stream().map(c -> c.query(System.getProperty("work", "SELECT 1")).execute()).toList())
          .compose(v -> Future.all(connections.stream().map(SqlConnection::close).toList()))
          .map(v -> connections.size());
    });
  }

  /** A connection, asking again while the pool's deadline (tiny in some tests) says busy. */
  private Future<SqlConnection> connection(Pool pool) {
    return pool.getConnection()
        .recover(e -> DbErrors.isPoolBusy(e) ? vertx.timer(1).compose(v -> connection(pool)) : Future.failedFuture(e));
  }

  private static Throwable awaitFailure(Future<?> future) {
    try {
      await(future);
    } catch (RuntimeException e) {
      return e;
    }
    throw new AssertionError("expected a failure");
  }

  private static final class Outcomes {
    final AtomicInteger ok = new AtomicInteger();
    final AtomicInteger busy = new AtomicInteger();
    final ConcurrentLinkedQueue<Throwable> other = new ConcurrentLinkedQueue<>();
    final AtomicInteger loopsDone = new AtomicInteger();
    final Promise<Void> allAnswered = Promise.promise();
  }

  /** One event loop's share: bursts of tiny transactions, each burst waiting for the one before. */
  private static final class Hammer extends VerticleBase {
    private final Pool pool;
    private final Outcomes outcomes;

    Hammer(Pool pool, Outcomes outcomes) {
      this.pool = pool;
      this.outcomes = outcomes;
    }

    @Override
    public Future<?> start() {
      round(0);
      return Future.succeededFuture();
    }

    private void round(int n) {
      if (n == ROUNDS) {
        if (outcomes.loopsDone.incrementAndGet() == LOOPS) {
          outcomes.allAnswered.complete();
        }
        return;
      }
      List<Future<?>> burst = new ArrayList<>();
      for (int i = 0; i < BURST; i++) {
        burst.add(pool.withTransaction(c -> c.query("SELECT 1").execute()).transform(ar -> {
          if (ar.succeeded()) {
            outcomes.ok.incrementAndGet();
          } else if (DbErrors.isPoolBusy(ar.cause())) {
            outcomes.busy.incrementAndGet();
          } else {
            outcomes.other.add(ar.cause());
          }
          return Future.succeededFuture();
        }));
      }
      Future.join(burst).onComplete(v -> round(n + 1));
    }
  }
}
