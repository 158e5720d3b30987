package io.creditledger.db;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.impl.SqlClientInternal;
import io.vertx.sqlclient.spi.Driver;

import java.time.Duration;

/**
 * The ledger's connection pool: vertx-pg-client's pool with a bounded wait queue and an acquisition deadline
 * of our own instead of the pool's.
 *
 * <p>Why not the pool's own {@code connectionTimeout}: in Vert.x 5.0.x its timer races with a connection being
 * handed to the waiting request (eclipse-vertx/vert.x#6169, fixed in core 5.1.x only; vertx-sql-client has no
 * 5.1 release to go with it). When both happen at once the waiter is completed twice ("Promise already
 * completed"), a connection can leak, and a request can hang until the event-bus timeout. So the pool here runs
 * without that timer ({@code connectionTimeout = 0}, no race to lose), and {@link #getConnection()} keeps its
 * own deadline beside the waiter without ever cancelling it: when the deadline passes first the caller gets
 * {@link PoolBusyException}, and the connection, once the pool hands it over, goes straight back.
 *
 * <p>A full wait queue fails at once, also as {@link PoolBusyException}: a saturated ledger says so immediately
 * instead of queueing requests it cannot serve in time.
 */
public final class DatabasePool implements Pool, SqlClientInternal {
  /** At most one pipelined read connection per event loop (connections open on the event loop that first reads). */
  private static final int READ_CONNECTIONS = VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE;

  private final Vertx vertx;
  private final Pool pool;
  private final SqlClient reads;
  private final long acquireTimeoutMs;

  private DatabasePool(Vertx vertx, Pool pool, SqlClient reads, Duration acquireTimeout) {
    this.vertx = vertx;
    this.pool = pool;
    this.reads = reads;
    this.acquireTimeoutMs = Math.max(1, acquireTimeout.toMillis());
  }

  /**
   * @param maxWaiting requests that may wait for a connection; one more fails at once
   * @param acquireTimeout how long a request may wait for a connection before it is told the ledger is busy
   */
  public static DatabasePool create(Vertx vertx, PgConnectOptions connect, int size, int maxWaiting,
                                    Duration acquireTimeout) {
    Pool pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(size).setMaxWaitQueueSize(maxWaiting).setConnectionTimeout(0))
        .connectingTo(connect)
        .using(vertx)
        .build();
    SqlClient reads = PgBuilder.client()
        .with(new PoolOptions().setMaxSize(READ_CONNECTIONS).setMaxWaitQueueSize(maxWaiting).setConnectionTimeout(0))
        .connectingTo(connect)
        .using(vertx)
        .build();
    return new DatabasePool(vertx, pool, reads, acquireTimeout);
  }

  /**
   * A client for short one-shot reads that many requests run at once (a balance): its statements are pipelined on
   * the connection of the caller's event loop (up to the connect options' pipelining limit in flight), so a read
   * takes no free connection from the pool, and its answer arrives on the event loop that asked, without a
   * hand-over between threads. No transactions, and nothing slow: a long statement would hold up the reads queued
   * behind it on its connection.
   */
  public SqlClient reads() {
    return reads;
  }

  /** A connection within the acquisition deadline, or {@link PoolBusyException}; transactions go through here. */
  @Override
  public Future<SqlConnection> getConnection() {
    Promise<SqlConnection> promise = Promise.promise();
    long timer = vertx.setTimer(acquireTimeoutMs, id -> promise.tryFail(new PoolBusyException(
        "No database connection free within " + acquireTimeoutMs + " ms")));
    pool.getConnection().onComplete(connection -> {
      vertx.cancelTimer(timer);
      if (connection.failed()) {
        promise.tryFail(translate(connection.cause()));
      } else if (!promise.tryComplete(connection.result())) {
        connection.result().close(); // the caller was already told "busy": give the connection back
      }
    });
    return promise.future();
  }

  private static Throwable translate(Throwable failure) {
    return failure instanceof ConnectionPoolTooBusyException ? new PoolBusyException(failure.getMessage()) : failure;
  }

  /** One-shot statements wait in the same bounded queue (no deadline of ours: they hold no lock and are short). */
  @Override
  public Query<RowSet<Row>> query(String sql) {
    return pool.query(sql);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
    return pool.preparedQuery(sql);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
    return pool.preparedQuery(sql, options);
  }

  /** SqlTemplate needs the client's driver (an internal interface of vertx-sql-client). */
  @Override
  public Driver driver() {
    return ((SqlClientInternal) pool).driver();
  }

  @Override
  public void group(Handler<SqlClient> block) {
    ((SqlClientInternal) pool).group(block);
  }

  @Override
  public int size() {
    return pool.size();
  }

  @Override
  public Future<Void> close() {
    return Future.join(reads.close(), pool.close()).mapEmpty();
  }

  /** No connection could be had in time, or too many requests already wait for one: retry later. */
  public static final class PoolBusyException extends RuntimeException {
    PoolBusyException(String message) {
      super(message, null, false, false);
    }
  }
}
