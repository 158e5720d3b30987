package io.creditledger.db;

import io.creditledger.CreditLedger;
import io.creditledger.config.ConfigLoader;
import io.creditledger.config.LedgerConfig;
import io.creditledger.support.Api;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static io.creditledger.support.TestApp.await;
import static org.assertj.core.api.Assertions.assertThat;

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
  }
}
