package io.creditledger.apikeys;

import io.creditledger.config.ConfigException;
import io.creditledger.config.ConfigLoader;
import io.creditledger.config.LedgerConfig;
import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VaultConfigurationTest {

  @Test
  void aSecretThatIsNot32BytesStopsStartupWithoutShowingIt() {
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("API_KEY_ENCRYPTION_SECRET", "too-short-secret")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("Invalid setting API_KEY_ENCRYPTION_SECRET: must be exactly 32 bytes")
        .hasMessageNotContaining("too-short-secret");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("API_KEY_ENCRYPTION_SECRET", "base64:AAAA")))
        .hasMessageContaining("got 3 bytes");
    String base64 = Base64.getEncoder().encodeToString(new byte[32]);
    assertThat(ConfigLoader.load(Map.of("API_KEY_ENCRYPTION_SECRET", "base64:" + base64)).apiKeySecret()).isNotNull();
    assertThat(ConfigLoader.load(Map.of("API_KEY_ENCRYPTION_SECRET", "0123456789abcdef0123456789abcdef"))
        .apiKeySecret().toString()).isEqualTo("[redacted]");
  }

  @Test
  void withAnExternalDatabaseAndNoSecretTheVaultAnswers503() {
    try (TestApp app = TestApp.start(Map.of("FREE_GRANT_CREDITS", "0"))) {
      app.user("vc-user");
      Api.Response r = app.api.put("/v1/users/vc-user/api-keys/openai", new JsonObject().put("apiKey", "sk-123"));
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.errorCode()).isEqualTo("vault_not_configured");
      assertThat(app.api.get("/v1/users/vc-user/api-keys/openai").errorCode()).isEqualTo("vault_not_configured");
      assertThat(app.api.get("/v1/users/vc-user").status()).as("the rest of the service works").isEqualTo(200);
    }
  }

  @Test
  void theEmbeddedDefaultGeneratesAndKeepsASecret(@TempDir Path dataDir) throws Exception {
    LedgerConfig config = ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString()));
    ApiKeyCrypto first = VaultSecret.resolve(config);
    Path file = dataDir.resolve("api-key-secret");
    assertThat(file).exists();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    String stored = first.encrypt("sk-kept", "u\u0000openai");
    assertThat(VaultSecret.resolve(config).decrypt(stored, "u\u0000openai")).isEqualTo("sk-kept");
  }
}
