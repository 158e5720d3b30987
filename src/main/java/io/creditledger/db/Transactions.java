package io.creditledger.db;

import io.creditledger.retry.Backoff;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.RecordComponent;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs money-moving transactions, retrying the whole transaction a bounded number of times when the failure
 * is one a retry can cure: a serialization failure, a deadlock, a lost connection, or a unique-key race with a
 * concurrent transaction (the retry then sees the winner's row and answers accordingly). Every operation is
 * idempotent by its operationId, so a retry after an ambiguous commit replays instead of applying twice.
 */
public final class Transactions {
  public static final int MAX_ATTEMPTS = 4;
  private static final Backoff BACKOFF = new Backoff(Duration.ofMillis(20), Duration.ofMillis(500));

  private static final String SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY";

  private static final Logger log = LoggerFactory.getLogger(Transactions.class);

  private final Vertx vertx;
  private final Pool pool;
  private final Clock clock;
  private final SyncFailures failures;
  /** told of every retry (the retries meter) */
  private final Runnable retried;

  public Transactions(Vertx vertx, Pool pool, Clock clock, SyncFailures failures, Runnable retried) {
    this.vertx = vertx;
    this.pool = pool;
    this.clock = clock;
    this.failures = failures;
    this.retried = retried;
  }

  /** Failed for good after {@code attempts} tries; {@code getCause()} is the last failure. */
  public static final class GaveUp extends RuntimeException {
    private final int attempts;

    GaveUp(Throwable cause, int attempts) {
      super("Gave up after " + attempts + " attempts: " + cause, cause, false, false);
      this.attempts = attempts;
    }

    public int attempts() {
      return attempts;
    }
  }

  /** Runs {@code work} read-only on one snapshot of the database (REPEATABLE READ): its reads agree. */
  public <T> Future<T> snapshot(Function<SqlConnection, Future<T>> work) {
    return pool.withTransaction(conn -> conn.query(SNAPSHOT).execute().compose(v -> work.apply(conn)));
  }

  /**
   * Runs {@code work} inside a savepoint of the caller's transaction: when it fails, what it wrote is rolled back
   * and the transaction can go on (unless the failure broke the connection).
   */
  public static <T> Future<T> inSavepoint(SqlConnection conn, Supplier<Future<T>> work) {
    return conn.query("SAVEPOINT op").execute().compose(v -> {
      Future<T> done;
      try {
        done = work.get();
      } catch (RuntimeException e) {
        done = Future.failedFuture(e);
      }
      return done.transform(ar -> ar.succeeded()
          ? conn.query("RELEASE SAVEPOINT op").execute().map(ar.result())
          : conn.query("ROLLBACK TO SAVEPOINT op").execute().transform(r -> Future.<T>failedFuture(ar.cause())));
    });
  }

  public <T> Future<T> run(Function<SqlConnection, Future<T>> work) {
    return attempt(1, () -> inTransaction(work));
  }

  /**
   * Like {@link #run(Function)}, and when the retries are exhausted records what failed in
   * {@code sync_failure} (provider {@code internal}) before failing.
   */
  public <T> Future<T> run(Failure what, Function<SqlConnection, Future<T>> work) {
    return recordingFailure(what, attempt(1, () -> inTransaction(work)));
  }

  /**
   * Work that may end its transaction itself (a write batch): {@code commit} sends COMMIT behind the statements the
   * work has sent, without waiting for their answers (a round trip, and a wake-up of each side, fewer). Its
   * transaction runs with generic plans ({@link #BEGIN_WITH_GENERIC_PLANS}). PostgreSQL answers COMMIT
   * of a transaction a failed statement aborted with a rollback, not an error, so such work must wait for the
   * answers of the statements it sent before the COMMIT, fail when any failed, and not send COMMIT after a failure
   * it recovered from other than by a savepoint.
   */
  public interface EndsItself<T> {
    Future<T> apply(SqlConnection conn, Supplier<Future<Void>> commit);
  }

  /** Like {@link #run(Function)}, for work that may send its COMMIT itself. */
  public <T> Future<T> run(EndsItself<T> work) {
    return attempt(1, () -> endingItself(work));
  }

  /** Like {@link #run(Failure, Function)}, for work that may send its COMMIT itself. */
  public <T> Future<T> run(Failure what, EndsItself<T> work) {
    return recordingFailure(what, attempt(1, () -> endingItself(work)));
  }

  private <T> Future<T> recordingFailure(Failure what, Future<T> attempts) {
    return attempts.recover(failure -> {
      if (!(failure instanceof GaveUp gaveUp)) {
        return Future.failedFuture(failure);
      }
      return recordFailure(what, gaveUp).transform(ignored -> Future.<T>failedFuture(failure));
    });
  }

  /** What an operation was, for the record kept when it fails for good. */
  public record Failure(String operationId, String userId, JsonObject payload) {
    /**
     * What an operation asked: the request record's fields (numbers and booleans as they are, anything else as
     * its text) plus {@code request}, the record's name. Only commands without secrets are recorded this way.
     */
    public static Failure of(String operationId, String userId, Record request) {
      JsonObject payload = new JsonObject().put("request", request.getClass().getSimpleName());
      for (RecordComponent component : request.getClass().getRecordComponents()) {
        Object value;
        try {
          value = component.getAccessor().invoke(request);
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException(e);
        }
        if (value != null) {
          payload.put(component.getName(),
              value instanceof Number || value instanceof Boolean ? value : String.valueOf(value));
        }
      }
      return new Failure(operationId, userId, payload);
    }
  }

  private Future<Void> recordFailure(Failure what, GaveUp gaveUp) {
    return failures.record(pool, SyncFailures.INTERNAL, what.operationId(), what.userId(), what.payload(),
            String.valueOf(gaveUp.getCause()), gaveUp.attempts(), Now.of(clock))
        .onFailure(e -> log.error("Could not record the failure of operation {} ({}): {}", what.operationId(),
            gaveUp.getCause(), e.toString()));
  }

  private <T> Future<T> attempt(int n, Supplier<Future<T>> once) {
    return once.get().recover(failure -> {
      if (!retryable(failure)) {
        return Future.failedFuture(failure);
      }
      if (n >= MAX_ATTEMPTS) {
        return Future.failedFuture(new GaveUp(failure, n));
      }
      retried.run();
      long delay = BACKOFF.delay(n, ThreadLocalRandom.current()::nextDouble).toMillis();
      return vertx.timer(delay).compose(v -> attempt(n + 1, once));
    });
  }

  /**
   * {@code work} in one transaction, like {@link Pool#withTransaction}, except that BEGIN goes out together with
   * the work's first statements instead of one round trip ahead of them (vertx-sql-client queues statements
   * behind the BEGIN of {@link SqlConnection#begin()}). Committed when the work succeeds; otherwise rolled back,
   * once the statements still in flight are answered, and the work's failure is the answer.
   */
  private <T> Future<T> inTransaction(Function<SqlConnection, Future<T>> work) {
    return inTransaction(LibraryEnding::new, (conn, commit) -> work.apply(conn));
  }

  /**
   * {@code work} in one transaction begun and ended with plain BEGIN and COMMIT (or ROLLBACK) statements, not
   * vertx-sql-client's {@link Transaction}, whose COMMIT waits for the answers of every statement sent before it.
   * Committed when the work succeeds, unless it sent COMMIT itself; otherwise rolled back (a COMMIT the work sent
   * ended the transaction already), and the work's failure is the answer.
   */
  private <T> Future<T> endingItself(EndsItself<T> work) {
    return inTransaction(PlainEnding::new, work);
  }

  private <T> Future<T> inTransaction(Function<SqlConnection, Ending> begin, EndsItself<T> work) {
    return pool.getConnection().compose(conn -> {
      Ending ending = begin.apply(conn);
      Future<T> done;
      try {
        done = work.apply(conn, ending::commit);
      } catch (RuntimeException e) {
        done = Future.failedFuture(e);
      }
      Future<T> result = done;
      return Future.all(ending.begun(), result)
          .transform(ar -> ar.succeeded()
              ? ending.commit().map(v -> result.result())
              : ending.rollback().transform(v -> Future.<T>failedFuture(
                  result.failed() ? result.cause() : ar.cause())))
          .onComplete(ar -> conn.close());
    });
  }

  /** How a transaction on one connection begins and ends. */
  private interface Ending {
    Future<?> begun();

    Future<Void> commit();

    Future<Void> rollback();
  }

  /** vertx-sql-client's {@link Transaction}: its COMMIT is sent once every statement before it has answered. */
  private static final class LibraryEnding implements Ending {
    private final SqlConnection conn;
    private final Future<Transaction> begun;

    LibraryEnding(SqlConnection conn) {
      this.conn = conn;
      this.begun = conn.begin();
    }

    @Override
    public Future<?> begun() {
      return begun;
    }

    @Override
    public Future<Void> commit() {
      return begun.result().commit();
    }

    @Override
    public Future<Void> rollback() {
      return conn.transaction().rollback();
    }
  }

  /**
   * A write batch's statements look rows up by key from arrays of ids; a plan made for the values of one batch is no
   * better than the generic one. Left to choose, PostgreSQL planned some of them again at every execution (the holds
   * read every time: its custom plan looks cheaper on a table of few rows), about a tenth of the batch's time in the
   * database. For that transaction only ({@code SET LOCAL}), sent with the BEGIN as one message.
   */
  private static final String BEGIN_WITH_GENERIC_PLANS = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan";

  /**
   * Plain BEGIN (with generic plans), then the first of COMMIT and ROLLBACK asked for: a COMMIT goes out as soon as it
   * is asked for.
   */
  private static final class PlainEnding implements Ending {
    private final SqlConnection conn;
    private final Future<?> begun;
    private Future<Void> sent;

    PlainEnding(SqlConnection conn) {
      this.conn = conn;
      this.begun = conn.query(BEGIN_WITH_GENERIC_PLANS).execute();
    }

    @Override
    public Future<?> begun() {
      return begun;
    }

    @Override
    public Future<Void> commit() {
      if (sent == null) {
        sent = conn.query("COMMIT").execute().mapEmpty();
      }
      return sent;
    }

    /** Ends the transaction unless the work sent its COMMIT already. */
    @Override
    public Future<Void> rollback() {
      if (sent == null) {
        sent = conn.query("ROLLBACK").execute().mapEmpty();
      }
      return sent;
    }
  }

  static boolean retryable(Throwable t) {
    return DbErrors.isTransient(t) || DbErrors.isUniqueViolation(t);
  }
}
