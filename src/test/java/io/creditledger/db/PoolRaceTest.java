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
import org.junit.jupiter.api.Tag;
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
 * The pool race of Vert.x 5.0.x (eclipse-vertx/vert.x#6169): a request that retries at once when its connection wait
 * timed out is queued from inside the pool's own task chain, so its timer is armed late; another event loop can hand
 * it a connection before that, and the leftover timer then "cancels" a request already served ("Promise already
 * completed", an unhandled exception that also drops the pool's pending hand-overs: a connection leaks and a waiter
 * hangs until its caller gives up). Request loops on two event loops against a pool with a queue shorter than them
 * and a 1 ms deadline, each retrying in its completion callback, hit that within seconds when the deadline is the
 * pool's own {@code connectionTimeout}. {@link DatabasePool} must show no unhandled exception, answer every request,
 * and still hand out all its connections afterwards.
 */
@Tag("slow")
class PoolRaceTest {
  private static final int POOL_SIZE = 16;
  private static final int LOOPS = 20;
  private static final Duration DEADLINE = Duration.ofMillis(1);
  private static final Duration RUN = Duration.ofSeconds(8);

  private Vertx vertx;
  private final ConcurrentLinkedQueue<Throwable> unhandled = new ConcurrentLinkedQueue<>();
  private DatabaseUrl db;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    vertx.exceptionHandler(unhandled::add);
    db = TestDatabase.fresh();
  }

  @AfterEach
  void stop() {
    await(vertx.close());
  }

  @Test
  void requestsRetryingTheirTimedOutWaitsNeverCompleteTwiceLeakOrHang() {
    DatabasePool pool = DatabasePool.create(vertx, db.connectOptions(), POOL_SIZE, 100_000, DEADLINE);
    Outcomes outcomes = new Outcomes(System.nanoTime() + RUN.toNanos());

    await(vertx.deployVerticle(() -> new RequestLoops(pool, outcomes, LOOPS / 2),
        new DeploymentOptions().setInstances(2)));
    await(outcomes.allStopped.future().timeout(RUN.toSeconds() + 30, TimeUnit.SECONDS));
    await(vertx.timer(200)); // a timer left behind by the race would fire by now

    assertThat(outcomes.other).as("failures other than busy").isEmpty();
    assertThat(outcomes.ok.get()).as("requests served").isPositive();
    assertThat(outcomes.busy.get()).as("the deadline fired, so the race window was exercised").isPositive();
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
    final long stopAt;
    final AtomicInteger ok = new AtomicInteger();
    final AtomicInteger busy = new AtomicInteger();
    final ConcurrentLinkedQueue<Throwable> other = new ConcurrentLinkedQueue<>();
    final AtomicInteger stopped = new AtomicInteger();
    final Promise<Void> allStopped = Promise.promise();

    Outcomes(long stopAt) {
      this.stopAt = stopAt;
    }
  }

  /** One event loop's request loops: each runs a tiny transaction and, answered either way, goes again at once. */
  private static final class RequestLoops extends VerticleBase {
    private final Pool pool;
    private final Outcomes outcomes;
    private final int loops;

    RequestLoops(Pool pool, Outcomes outcomes, int loops) {
      this.pool = pool;
      this.outcomes = outcomes;
      this.loops = loops;
    }

    @Override
    public Future<?> start() {
      for (int i = 0; i < loops; i++) {
        loop();
      }
      return Future.succeededFuture();
    }

    private void loop() {
      if (System.nanoTime() > outcomes.stopAt) {
        if (outcomes.stopped.incrementAndGet() == LOOPS) {
          outcomes.allStopped.complete();
        }
        return;
      }
      pool.withTransaction(c -> c.query("SELECT 1").execute()).onComplete(ar -> {
        if (ar.succeeded()) {
          outcomes.ok.incrementAndGet();
        } else if (DbErrors.isPoolBusy(ar.cause())) {
          outcomes.busy.incrementAndGet();
        } else {
          outcomes.other.add(ar.cause());
        }
        loop();
      });
    }
  }
}
