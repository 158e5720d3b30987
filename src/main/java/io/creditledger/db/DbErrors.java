package io.creditledger.db;

import io.vertx.core.VertxException;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;

import java.io.IOException;
import java.net.ConnectException;
import java.util.concurrent.TimeoutException;

/** Classifies database failures: which ones are worth a retry and which mean the database is unreachable. */
public final class DbErrors {
  public static final String UNIQUE_VIOLATION = "23505";
  public static final String SERIALIZATION_FAILURE = "40001";
  public static final String DEADLOCK_DETECTED = "40P01";
  /** Raised by the schema's batch_expect: a write batch must be decided again (migration 014-batch-checks). */
  public static final String DECIDE_AGAIN = "LB001";

  private DbErrors() {
  }

  public static String sqlState(Throwable t) {
    return t instanceof PgException pg ? pg.getSqlState() : null;
  }

  /** The constraint a failure names, if any. */
  public static String constraint(Throwable t) {
    return t instanceof PgException pg ? pg.getConstraint() : null;
  }

  public static boolean isUniqueViolation(Throwable t) {
    return UNIQUE_VIOLATION.equals(sqlState(t));
  }

  /** The database cannot be reached or went away (connection refused, closed, server shutting down). */
  public static boolean isUnavailable(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ClosedConnectionException || c instanceof ConnectException || c instanceof TimeoutException
          || (c instanceof IOException && !(c instanceof java.io.UncheckedIOException)) || closedUnderneath(c)) {
        return true;
      }
      String state = sqlState(c);
      if (state != null && (state.startsWith("08") || state.startsWith("57P") || state.equals("53300"))) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }

  /** No connection could be had in time, or too many requests already wait for one (see {@link DatabasePool}). */
  public static boolean isPoolBusy(Throwable t) {
    return t instanceof DatabasePool.PoolBusyException || t instanceof ConnectionPoolTooBusyException;
  }

  /**
   * A statement sent on a connection the server has just closed (vertx-sql-client's SocketConnectionBase says so
   * only in the message of a plain VertxException).
   */
  private static boolean closedUnderneath(Throwable t) {
    return t instanceof VertxException && t.getMessage() != null
        && t.getMessage().startsWith("Connection is not active now");
  }

  /** SQLSTATE class 22: a value out of range, badly encoded or of the wrong form for its column. */
  public static boolean isDataException(Throwable t) {
    String state = sqlState(t);
    return state != null && state.startsWith("22");
  }

  /** Failures a retry of the whole transaction can cure: serialization conflicts, deadlocks, lost connections. */
  public static boolean isTransient(Throwable t) {
    String state = sqlState(t);
    return SERIALIZATION_FAILURE.equals(state) || DEADLOCK_DETECTED.equals(state) || isUnavailable(t);
  }
}
