package io.creditledger.db;

import io.creditledger.CreditLedger;
import io.creditledger.config.ConfigLoader;
import io.creditledger.config.LedgerConfig;
import io.creditledger.support.Api;
import io.creditledger.support.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static io.creditledger.support.TestApp.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The default mode: no DATABASE_URL, an embedded PostgreSQL under DATA_DIR that keeps rows across restarts. */
class EmbeddedRestartTest {

  @Test
  void aRestartKeepsACreatedUserTheGeneratedTokensAndTheVaultSecret(@TempDir Path dataDir) {
    LedgerConfig config = ConfigLoader.load(Map.of(
        "DATA_DIR", dataDir.toString(), "HTTP_PORT", "0", "HTTP_HOST", "127.0.0.1", "VERTICLE_INSTANCES", "1"));
    assertThat(config.embeddedDatabase()).isTrue();

    String token;
    Vertx vertx = Vertx.vertx();
    try {
      CreditLedger ledger = await(CreditLedger.deploy(vertx, config));
      assertThat(ledger.postgres().isEmbedded()).isTrue();
      token = ledger.tokens().service();
      Api api = new Api(ledger.httpPort(), token);
      assertThat(api.get("/ready").status()).isEqualTo(200);
      assertThat(api.put("/v1/users/kept", new JsonObject().put("email", "kept@example.com")).status()).isEqualTo(201);
      assertThat(api.put("/v1/users/kept/api-keys/openai", new JsonObject().put("apiKey", "sk-kept-1")).status())
          .as("the embedded default generates a vault secret").isEqualTo(201);
      await(ledger.close());
    } finally {
      await(vertx.close());
    }

    Vertx again = Vertx.vertx();
    try {
      CreditLedger ledger = await(CreditLedger.deploy(again, config));
      assertThat(ledger.tokens().generated()).isFalse();
      assertThat(ledger.tokens().service()).isEqualTo(token);
      Api.Response user = new Api(ledger.httpPort(), token).get("/v1/users/kept");
      assertThat(user.status()).isEqualTo(200);
      assertThat(user.json().getString("email")).isEqualTo("kept@example.com");
      assertThat(new Api(ledger.httpPort(), token).get("/v1/users/kept/api-keys/openai").json().getString("apiKey"))
          .as("and keeps it, so stored keys stay readable").isEqualTo("sk-kept-1");
      await(ledger.close());
    } finally {
      await(again.close());
    }
    assertThat(readString(dataDir.resolve("postgres").resolve("PG_VERSION")).strip())
        .as("the major version the build says it embeds").isEqualTo(PostgresServer.EMBEDDED_MAJOR);
  }

  /**
   * The README's {@code java -jar target/credit-ledger.jar audit} run beside the service once took the service's
   * embedded server for one a killed service had left behind, and stopped it.
   */
  @Test
  void aCommandStartedBesideTheServiceLeavesTheServicesDatabaseRunning(@TempDir Path dataDir) throws Exception {
    LedgerConfig config = ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString()));
    try (PostgresServer running = PostgresServer.open(config)) {
      ProcessBuilder audit = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), "io.creditledger.Main", "audit").redirectErrorStream(true);
      audit.environment().remove("DATABASE_URL");
      audit.environment().put("DATA_DIR", dataDir.toString());
      Process process = audit.start();
      String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(process.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).as(output).isEqualTo(1);
      assertThat(output).contains("belongs to another running process").doesNotContain("Stopping an orphaned");

      assertThatThrownBy(() -> PostgresServer.open(config)).as("a second start in the same process")
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("belongs to another running process");

      try (java.sql.Connection c = TestDatabase.connect(running.url());
           java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
        assertThat(rs.next()).as("the running server still answers").isTrue();
      }
    }
  }

  @Test
  void dataOfAnotherMajorVersionIsRefusedWithOneClearLine(@TempDir Path dataDir) throws Exception {
    Path postgres = java.nio.file.Files.createDirectories(dataDir.resolve("postgres"));
    java.nio.file.Files.writeString(postgres.resolve("PG_VERSION"), "16\n");
    java.nio.file.Files.writeString(postgres.resolve("marker"), "untouched");
    LedgerConfig config = ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString()));
    assertThatThrownBy(() -> PostgresServer.open(config))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("holds data of PostgreSQL 16, and this build embeds PostgreSQL " + PostgresServer.EMBEDDED_MAJOR)
        .hasMessageNotContaining("\n");
    assertThat(readString(postgres.resolve("PG_VERSION"))).isEqualTo("16\n");
    assertThat(readString(postgres.resolve("marker"))).isEqualTo("untouched");
  }

  private static String readString(Path file) {
    try {
      return java.nio.file.Files.readString(file);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
