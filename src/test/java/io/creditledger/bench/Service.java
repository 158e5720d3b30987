package io.creditledger.bench;

import io.creditledger.CreditLedger;
import io.creditledger.config.ConfigLoader;
import io.creditledger.config.DatabaseUrl;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The ledger under test: a separate {@code java -jar credit-ledger.jar} process (so its CPU time and memory are
 * its own in /proc), or, in-process mode, {@code CreditLedger.deploy} on a Vert.x of this JVM.
 */
abstract class Service implements AutoCloseable {
  static final String SERVICE_TOKEN = "bench-service-token-0123456789";
  static final String ADMIN_TOKEN = "bench-admin-token-0123456789ab";
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  abstract int port();

  /** The process whose CPU and memory are the service's (this JVM in-process). */
  abstract long pid();

  abstract boolean forked();

  @Override
  public abstract void close();

  /** The settings every benchmark service gets; {@code extra} (scenario settings, then --service-env) win. */
  static Map<String, String> settings(DatabaseUrl db, Path dataDir, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", "postgresql://" + db.user() + (db.password() == null ? "" : ":" + db.password())
        + "@" + db.host() + ":" + db.port() + "/" + db.database());
    env.put("HTTP_HOST", "127.0.0.1");
    env.put("LEDGER_API_TOKEN", SERVICE_TOKEN);
    env.put("LEDGER_ADMIN_TOKEN", ADMIN_TOKEN);
    env.put("DATA_DIR", dataDir.toAbsolutePath().toString());
    env.putAll(extra);
    return env;
  }

  static Service start(boolean inProcess, Path jar, Path workDir, Map<String, String> settings) {
    try {
      Files.createDirectories(workDir);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return inProcess ? InProcess.start(settings) : Forked.start(jar, workDir, settings);
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static HttpResponse<String> get(int port, String path, String token, Duration timeout) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(timeout).GET();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(int port, String path, String token, String body, Duration timeout)
      throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(timeout)
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** The setting names the service reads, from its packaged conf/config.json; the environment may override each. */
  static List<String> settingNames() {
    try (InputStream in = Service.class.getClassLoader().getResourceAsStream(ConfigLoader.CONFIG_FILE)) {
      if (in == null) {
        return List.of();
      }
      return List.copyOf(new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)).fieldNames());
    } catch (IOException e) {
      return List.of();
    }
  }

  static final class Forked extends Service {
    private final Process process;
    private final int port;
    private final Path log;

    private Forked(Process process, int port, Path log) {
      this.process = process;
      this.port = port;
      this.log = log;
    }

    static Forked start(Path jar, Path workDir, Map<String, String> settings) {
      if (!Files.isRegularFile(jar)) {
        throw new IllegalStateException("No service jar at " + jar.toAbsolutePath()
            + ": build it with mvn -DskipTests package (bench/run.sh does), or use --in-process");
      }
      int port = freePort();
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder pb = new ProcessBuilder(java, "-jar", jar.toAbsolutePath().toString());
      pb.directory(workDir.toFile());
      Map<String, String> env = pb.environment();
      // settings from the caller's shell would silently change what is measured: only ours count
      settingNames().forEach(env::remove);
      env.remove("LOG_LEVEL");
      env.putAll(settings);
      env.put("HTTP_PORT", Integer.toString(port));
      Path log = workDir.resolve("service.log");
      pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      Process process;
      try {
        process = pb.start();
      } catch (IOException e) {
        throw new IllegalStateException("Cannot start " + java + ": " + e.getMessage(), e);
      }
      Forked service = new Forked(process, port, log);
      service.awaitReady();
      return service;
    }

    private void awaitReady() {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException("The service exited with " + process.exitValue() + " before it was ready; "
              + "log " + log + ":\n" + tail());
        }
        try {
          if (get(port, "/ready", null, Duration.ofSeconds(2)).statusCode() == 200) {
            return;
          }
        } catch (IOException e) {
          // not listening yet
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
        sleep(50);
      }
      close();
      throw new IllegalStateException("The service was not ready within 180 s; log " + log + ":\n" + tail());
    }

    private String tail() {
      try {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
      } catch (IOException e) {
        return "(no log)";
      }
    }

    @Override
    int port() {
      return port;
    }

    @Override
    long pid() {
      return process.pid();
    }

    @Override
    boolean forked() {
      return true;
    }

    /** SIGTERM (the service drains and stops), then SIGKILL after a minute. */
    @Override
    public void close() {
      process.destroy();
      try {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }

  static final class InProcess extends Service {
    private final Vertx vertx;
    private final CreditLedger ledger;

    private InProcess(Vertx vertx, CreditLedger ledger) {
      this.vertx = vertx;
      this.ledger = ledger;
    }

    static InProcess start(Map<String, String> settings) {
      Map<String, String> env = new HashMap<>(settings);
      env.put("HTTP_PORT", "0");
      Vertx vertx = Vertx.vertx();
      try {
        CreditLedger ledger = CreditLedger.deploy(vertx, ConfigLoader.load(env))
            .toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        return new InProcess(vertx, ledger);
      } catch (Exception e) {
        vertx.close();
        throw new IllegalStateException("The ledger did not deploy: " + e.getMessage(), e);
      }
    }

    @Override
    int port() {
      return ledger.httpPort();
    }

    @Override
    long pid() {
      return ProcessHandle.current().pid();
    }

    @Override
    boolean forked() {
      return false;
    }

    @Override
    public void close() {
      try {
        ledger.close().eventually(vertx::close).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("The in-process ledger did not stop cleanly: " + e);
      }
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
