package io.creditledger.support;

import io.creditledger.config.DatabaseUrl;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The service's real {@code main} in a process of its own, on the tests' class path, its output in a file. */
public final class MainProcess {
  private static final Pattern LISTENING = Pattern.compile("Credit ledger listening on port (\\d+)");

  private MainProcess() {
  }

  /** Starts {@code io.creditledger.Main} on {@code db} with {@code env}, writing stdout and stderr to {@code log}. */
  public static Process start(DatabaseUrl db, Map<String, String> env, Path log, String... jvmArgs) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    command.addAll(List.of(jvmArgs));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.creditledger.Main"));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("DATABASE_URL", "postgresql://" + db.user() + "@" + db.host() + ":" + db.port() + "/"
        + db.database());
    pb.environment().put("HTTP_PORT", "0");
    pb.environment().put("HTTP_HOST", "127.0.0.1");
    pb.environment().putAll(env);
    return pb.start();
  }

  /** The HTTP port the process logged once it listens (within a minute), or an error with its output. */
  public static int awaitPort(Process p, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && p.isAlive()) {
      Matcher m = LISTENING.matcher(Files.exists(log) ? Files.readString(log) : "");
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the service did not start: " + (Files.exists(log) ? Files.readString(log) : ""));
  }
}
