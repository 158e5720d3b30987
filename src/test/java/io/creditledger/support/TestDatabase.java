package io.creditledger.support;

import io.creditledger.config.DatabaseUrl;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One PostgreSQL server per test JVM, and a fresh database on it for each caller (each test class). The
 * server is the one {@code TEST_DATABASE_URL} names (its databases are created beside the named one), or an
 * embedded PostgreSQL started on first use and stopped when the JVM exits.
 */
public final class TestDatabase {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static final List<DatabaseUrl> CREATED = new ArrayList<>();
  private static DatabaseUrl server;

  private TestDatabase() {
  }

  /** A new, empty database. */
  public static synchronized DatabaseUrl fresh() {
    DatabaseUrl admin = server();
    String name = "ledger_test_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
    try (Connection c = connect(admin); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name);
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("Cannot create test database on " + admin, e);
    }
    DatabaseUrl db = admin.withDatabase(name);
    CREATED.add(db);
    return db;
  }

  /**
   * A JDBC connection to {@code db}: the one place tests and tools open one (the service itself uses its pool). Most
   * callers want {@link #open} instead; a raw connection is for holding a lock or loading data in a transaction.
   */
  public static Connection connect(DatabaseUrl db) throws SQLException {
    return DriverManager.getConnection(db.jdbcUrl(), db.jdbcProperties());
  }

  /** A connection to {@code db} with helpers to run statements and read rows; close it after use. */
  public static SqlSession open(DatabaseUrl db) {
    try {
      return new SqlSession(connect(db));
    } catch (SQLException e) {
      throw new IllegalStateException("Cannot connect to " + db.redacted() + ": " + e.getMessage(), e);
    }
  }

  /** The databases created since the last call (for checks after each test class). */
  public static synchronized List<DatabaseUrl> takeCreated() {
    List<DatabaseUrl> created = new ArrayList<>(CREATED);
    CREATED.clear();
    return created;
  }

  private static DatabaseUrl server() {
    if (server == null) {
      String url = System.getenv("TEST_DATABASE_URL");
      server = url != null && !url.isBlank() ? DatabaseUrl.parse("TEST_DATABASE_URL", url) : startEmbedded();
    }
    return server;
  }

  private static DatabaseUrl startEmbedded() {
    try {
      EmbeddedPostgres pg = EmbeddedPostgres.builder()
          .setServerConfig("max_connections", "300")
          .setServerConfig("fsync", "off")
          .setServerConfig("synchronous_commit", "off")
          .start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          pg.close();
        } catch (IOException ignored) {
          // the JVM is going away
        }
      }));
      return new DatabaseUrl("localhost", pg.getPort(), "postgres", "postgres", null);
    } catch (IOException e) {
      throw new UncheckedIOException("Embedded PostgreSQL for tests did not start", e);
    }
  }
}
