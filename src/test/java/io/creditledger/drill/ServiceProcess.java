package io.creditledger.drill;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The service as a separate process: the packaged jar ({@code java -jar}), or {@code io.creditledger.Main} on a
 * classpath. Killed with SIGKILL, restarted on the same port and environment.
 */
final class ServiceProcess implements AutoCloseable {
  private final List<String> command;
  private final Map<String, String> env;
  private final Path log;
  private final int port;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private Process process;

  ServiceProcess(String jarOrNull, Map<String, String> env, Path log, int port) {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    this.command = new ArrayList<>(List.of(java, "-Xmx512m"));
    if (jarOrNull != null) {
      command.addAll(List.of("-jar", jarOrNull));
    } else {
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.creditledger.Main"));
    }
    this.env = env;
    this.log = log;
    this.port = port;
  }

  void start() throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    process = pb.start();
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  /** SIGKILL: no shutdown hook, no graceful anything. */
  void kill() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor();
    }
  }

  /** GET /ready: its status, or -1 when nothing answers. */
  int ready() {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  void awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (ready() != 200) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the service did not become ready within " + timeout + "; see " + log);
      }
      if (!alive()) {
        throw new IllegalStateException("the service exited; see " + log);
      }
      Thread.sleep(100);
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        kill();
      }
    }
  }
}
