package io.creditledger.bench;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.support.TestDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The PostgreSQL server the benchmark runs against, and a fresh database on it per scenario group:
 * <ul>
 *   <li>{@code DATABASE_URL} set: that server; databases {@code bench_<pid>_<n>} are created beside the named
 *       one and dropped at the end (unless kept);</li>
 *   <li>otherwise an embedded PostgreSQL (zonky, the version the project bundles): zonky turns
 *       {@code synchronous_commit} off by default, the harness turns it back on; zonky also starts the server with
 *       {@code -F} (no fsync), which the harness leaves as every session's figures were measured (a commit waits
 *       for its WAL write, not for a flush to disk; the service and its pgbench anchors alike);</li>
 *   <li>from the smoke test: whatever supplier of fresh databases the test hands in.</li>
 * </ul>
 */
abstract class DbServer implements AutoCloseable {

  /** A new, empty database; {@code label} says what it is for. */
  abstract DatabaseUrl fresh(String label);

  /** CPU ticks used by the server's processes so far, or -1 when they cannot be seen from here. */
  long cpuTicks() {
    return -1;
  }

  abstract String describe();

  @Override
  public void close() {
  }

  static DbServer embedded() {
    return new Embedded();
  }

  static DbServer external(String databaseUrl, boolean keep) {
    return new External(DatabaseUrl.parse("DATABASE_URL", databaseUrl), keep);
  }

  static DbServer supplied(Supplier<DatabaseUrl> fresh) {
    return new DbServer() {
      private volatile long postmaster = -2;

      @Override
      DatabaseUrl fresh(String label) {
        DatabaseUrl db = fresh.get();
        if (postmaster == -2) {
          postmaster = localPostmaster(db);
        }
        return db;
      }

      @Override
      long cpuTicks() {
        return postmaster < 0 ? -1 : ProcStats.treeCpuTicks(postmaster);
      }

      @Override
      String describe() {
        return "databases handed in by the caller";
      }
    };
  }

  /**
   * The postmaster's pid when the server runs on this machine: from {@code postmaster.pid} in its data
   * directory, else as the parent of this connection's backend; -1 when it is elsewhere or hidden.
   */
  static long localPostmaster(DatabaseUrl db) {
    String host = db.host();
    if (!host.equals("localhost") && !host.startsWith("127.") && !host.equals("::1") && !host.equals("[::1]")) {
      return -1;
    }
    try (Connection c = connect(db); Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SHOW data_directory")) {
        rs.next();
        Path pidFile = Path.of(rs.getString(1), "postmaster.pid");
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        if (ProcStats.command(pid).startsWith("postgres")) {
          return pid;
        }
      } catch (Exception e) {
        // not readable from here: try the backend's parent
      }
      try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
        rs.next();
        long parent = ProcStats.parentOf(rs.getLong(1));
        return parent > 0 && ProcStats.command(parent).startsWith("postgres") ? parent : -1;
      }
    } catch (Exception e) {
      return -1;
    }
  }

  static Connection connect(DatabaseUrl db) throws SQLException {
    return TestDatabase.connect(db);
  }

  static String version(DatabaseUrl db) {
    try (Connection c = connect(db); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SHOW server_version")) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  /** Creates databases next to {@code admin} (CREATE DATABASE needs no table of ours). */
  private abstract static class Creating extends DbServer {
    private final AtomicInteger counter = new AtomicInteger();
    final List<DatabaseUrl> created = new ArrayList<>();
    final DatabaseUrl admin;
    final long postmaster;

    Creating(DatabaseUrl admin) {
      this.admin = admin;
      this.postmaster = localPostmaster(admin);
    }

    DatabaseUrl admin() {
      return admin;
    }

    @Override
    long cpuTicks() {
      return postmaster < 0 ? -1 : ProcStats.treeCpuTicks(postmaster);
    }

    @Override
    synchronized DatabaseUrl fresh(String label) {
      String name = "bench_" + ProcessHandle.current().pid() + "_" + counter.incrementAndGet() + "_"
          + label.replaceAll("[^a-z0-9]", "_");
      try (Connection c = connect(admin()); Statement s = c.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + name);
        s.execute("CREATE DATABASE " + name);
      } catch (SQLException e) {
        throw new IllegalStateException("Cannot create database " + name + " on " + admin() + ": " + e.getMessage(), e);
      }
      DatabaseUrl db = admin().withDatabase(name);
      created.add(db);
      return db;
    }

    void dropCreated() {
      try (Connection c = connect(admin()); Statement s = c.createStatement()) {
        for (DatabaseUrl db : created) {
          s.execute("DROP DATABASE IF EXISTS " + db.database() + " WITH (FORCE)");
        }
      } catch (SQLException e) {
        System.err.println("Could not drop the benchmark databases: " + e.getMessage());
      }
      created.clear();
    }
  }

  private static final class Embedded extends Creating {
    private final EmbeddedPostgres pg;

    Embedded() {
      this(start());
    }

    // the postmaster is found from the server itself: zonky's getProcess() is pg_ctl, which has exited
    private Embedded(EmbeddedPostgres pg) {
      super(new DatabaseUrl("localhost", pg.getPort(), "postgres", "postgres", null));
      this.pg = pg;
    }

    private static EmbeddedPostgres start() {
      try {
        return EmbeddedPostgres.builder()
            .setServerConfig("synchronous_commit", "on")
            .setServerConfig("max_connections", "300")
            // a fresh server has no used WAL segments to recycle: each new 16 MB segment was zero-filled by the
            // backend that crossed into it, a 40 ms commit every ~9,000 consumptions, which a server that has run
            // a while does not pay (it renames old segments)
            .setServerConfig("wal_init_zero", "off")
            .start();
      } catch (IOException e) {
        throw new UncheckedIOException("Embedded PostgreSQL did not start", e);
      }
    }

    @Override
    String describe() {
      return "embedded PostgreSQL " + version(admin) + " on port " + admin.port()
          + " (default settings, synchronous_commit on, fsync off as zonky starts it (-F), max_connections 300,"
          + " wal_init_zero off)";
    }

    @Override
    public void close() {
      try {
        pg.close();
      } catch (IOException e) {
        System.err.println("Embedded PostgreSQL did not stop cleanly: " + e.getMessage());
      }
    }
  }

  private static final class External extends Creating {
    private final boolean keep;

    External(DatabaseUrl admin, boolean keep) {
      super(admin);
      this.keep = keep;
    }

    @Override
    String describe() {
      return "PostgreSQL " + version(admin) + " at " + admin.redacted()
          + (postmaster < 0 ? " (its CPU is not visible from here)" : " (local, postmaster pid " + postmaster + ")");
    }

    @Override
    public void close() {
      if (!keep) {
        dropCreated();
      }
    }
  }
}
