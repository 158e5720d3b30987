package io.creditledger.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The real {@code main}, in its own process. */
class MainProcessTest {

  private static ProcessBuilder main(String... args) {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    String[] command = new String[args.length + 4];
    command[0] = java;
    command[1] = "-cp";
    command[2] = System.getProperty("java.class.path");
    command[3] = "io.creditledger.Main";
    System.arraycopy(args, 0, command, 4, args.length);
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().remove("DATABASE_URL");
    return pb;
  }

  @Test
  void aBadSettingStopsStartupWithOneClearLine() throws Exception {
    ProcessBuilder pb = main();
    pb.environment().put("HTTP_PORT", "not-a-port");
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(err).isEqualTo("Invalid setting HTTP_PORT: must be an integer, got \"not-a-port\"");
    assertThat(out).isEmpty();
  }

  @Test
  void sigtermStopsTheServiceAndItsEmbeddedPostgres(@TempDir Path dataDir) throws Exception {
    Path log = dataDir.resolve("service.log");
    ProcessBuilder pb = main().redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("DATA_DIR", dataDir.toString());
    pb.environment().put("HTTP_PORT", "0");
    pb.environment().put("HTTP_HOST", "127.0.0.1");
    Process p = pb.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!read(log).contains("Credit ledger listening") && System.nanoTime() < deadline && p.isAlive()) {
        Thread.sleep(100);
      }
      Path pid = dataDir.resolve("postgres").resolve("postmaster.pid");
      assertThat(pid).as(read(log)).exists();
      assertThat(read(log)).contains("Generated API tokens", "curl -s -X PUT");

      p.destroy(); // SIGTERM
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(read(log)).contains("Shutting down", "Embedded PostgreSQL stopped");
      assertThat(Files.exists(pid)).as("embedded PostgreSQL stopped with the service").isFalse();
    } finally {
      p.destroyForcibly();
    }
  }

  private static String read(Path file) throws java.io.IOException {
    return Files.exists(file) ? Files.readString(file) : "";
  }
}
