package io.creditledger.db;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.support.SqlSession;
import io.creditledger.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static io.creditledger.support.TestApp.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Work that ends its transaction itself ({@link Transactions.EndsItself}): its COMMIT goes out behind its
 * statements, before their answers are read; a statement that fails ahead of it leaves nothing behind.
 */
class TransactionsTest {
  private Vertx vertx;
  private DatabasePool pool;
  private SqlSession db;
  private Transactions transactions;
  private final AtomicInteger retries = new AtomicInteger();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    DatabaseUrl url = TestDatabase.fresh();
    db = TestDatabase.open(url);
    db.execute("CREATE TABLE t (id int PRIMARY KEY)");
    pool = DatabasePool.create(vertx, url.connectOptions(), 2, 100, Duration.ofSeconds(5));
    transactions = new Transactions(vertx, pool, Clock.systemUTC(), new SyncFailures(), retries::incrementAndGet);
  }

  @AfterEach
  void stop() {
    db.close();
    await(pool.close());
    await(vertx.close());
  }

  @Test
  void theCommitSentByTheWorkLandsBeforeTheWorkReadsAnyAnswer() {
    int answer = await(transactions.run((conn, commit) -> {
      Future<?> inserted = conn.query("INSERT INTO t VALUES (1)").execute();
      Future<Void> committed = commit.get();
      // the event loop is held here, so nothing the database answered has been read: only a COMMIT sent already
      // can make the row visible to another session
      assertThat(visibleWithin(Duration.ofSeconds(5))).as("committed before any answer was read").isTrue();
      return Future.all(inserted, committed).map(7);
    }));

    assertThat(answer).isEqualTo(7);
    assertThat(db.number("SELECT count(*) FROM t")).isEqualTo(1);
  }

  @Test
  void aStatementThatFailsAheadOfTheCommitLeavesNothingAndIsTheAnswer() {
    assertThatThrownBy(() -> await(transactions.run((conn, commit) -> {
      Future<?> inserted = conn.query("INSERT INTO t VALUES (1)").execute();
      Future<?> failed = conn.query("SELECT 1 / 0").execute();
      return Future.all(inserted, failed, commit.get()).mapEmpty();
    }))).isInstanceOf(PgException.class).hasMessageContaining("division by zero");

    assertThat(db.number("SELECT count(*) FROM t")).as("rolled back with its transaction").isZero();
    assertThat(retries).as("not a failure a retry cures").hasValue(0);
  }

  @Test
  void workThatFailsWithoutCommittingIsRolledBackAndTheConnectionServesTheNext() {
    assertThatThrownBy(() -> await(transactions.run((conn, commit) -> conn.query("INSERT INTO t VALUES (3)").execute()
        .compose(v -> Future.failedFuture(new IllegalStateException("decided against it")))))).hasMessage(
        "decided against it");
    int ended = await(transactions.run((conn, commit) -> conn.query("INSERT INTO t VALUES (4)").execute().map(1)));

    assertThat(ended).isEqualTo(1);
    assertThat(db.texts("SELECT id::text FROM t ORDER BY id")).containsExactly("4");
  }

  private boolean visibleWithin(Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (db.number("SELECT count(*) FROM t") == 1) {
        return true;
      }
    }
    return false;
  }
}
