package io.creditledger.config;

import io.creditledger.time.ResetCycle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

  @Test
  void defaultsComeFromConfJson() {
    LedgerConfig c = ConfigLoader.load(Map.of());
    assertThat(c.httpPort()).isEqualTo(8080);
    assertThat(c.embeddedDatabase()).isTrue();
    assertThat(c.dataDir().toString()).isEqualTo("./data");
    assertThat(c.resetCycle()).isEqualTo(new ResetCycle.Months(1));
    assertThat(c.defaultCentsPerCredit()).isEqualByComparingTo("1");
    assertThat(c.verticleInstances()).isPositive();
    assertThat(c.eventLoops()).as("one per HTTP verticle instance").isEqualTo(c.verticleInstances());
  }

  @Test
  void eventLoopsFollowTheVerticleInstancesUnlessSet() {
    assertThat(ConfigLoader.load(Map.of("VERTICLE_INSTANCES", "3")).eventLoops()).isEqualTo(3);
    assertThat(ConfigLoader.load(Map.of("VERTICLE_INSTANCES", "3", "EVENT_LOOPS", "5")).eventLoops()).isEqualTo(5);
    assertInvalid("EVENT_LOOPS", "-1", "Invalid setting EVENT_LOOPS: must be between 0 and 256, got -1");
  }

  @Test
  void environmentOverridesByTheSameNames() {
    LedgerConfig c = ConfigLoader.load(Map.of(
        "HTTP_PORT", "9090",
        "DATABASE_URL", "postgresql://ledger:s%40cret@db.internal:6543/credits",
        "RESET_CYCLE", "PT5S",
        "LEDGER_API_TOKEN", "service-token-abcdefgh",
        "LEDGER_ADMIN_TOKEN", "admin-token-abcdefghij",
        "UNRELATED", "ignored"));
    assertThat(c.httpPort()).isEqualTo(9090);
    assertThat(c.databaseUrl()).isEqualTo(new DatabaseUrl("db.internal", 6543, "credits", "ledger", "s@cret"));
    assertThat(c.resetCycle()).isEqualTo(new ResetCycle.Fixed(Duration.ofSeconds(5)));
    assertThat(c.toString()).doesNotContain("s@cret", "service-token-abcdefgh", "admin-token-abcdefghij");
  }

  @Test
  void badValuesNameTheSetting() {
    assertInvalid("HTTP_PORT", "eighty", "Invalid setting HTTP_PORT: must be an integer, got \"eighty\"");
    assertInvalid("HTTP_PORT", "70000", "Invalid setting HTTP_PORT: must be between 0 and 65535, got 70000");
    assertInvalid("DATABASE_URL", "mysql://x/y", "Invalid setting DATABASE_URL: must start with postgresql://");
    assertInvalid("DATABASE_URL", "postgresql://host", "Invalid setting DATABASE_URL: must name one database");
    assertInvalid("RESET_CYCLE", "monthly", "Invalid setting RESET_CYCLE: expected a positive ISO-8601");
    assertInvalid("RESET_CYCLE", "PT0S", "Invalid setting RESET_CYCLE");
    assertInvalid("LEDGER_API_TOKEN", "short", "Invalid setting LEDGER_API_TOKEN: must be at least 16");
    assertInvalid("DEFAULT_CENTS_PER_CREDIT", "0", "Invalid setting DEFAULT_CENTS_PER_CREDIT: must be greater than 0");
    assertInvalid("DATABASE_POOL_SIZE", "0", "Invalid setting DATABASE_POOL_SIZE");
  }

  @Test
  void adminAndServiceTokensMustDiffer() {
    assertThatThrownBy(() -> ConfigLoader.load(Map.of(
        "LEDGER_API_TOKEN", "same-token-1234567890", "LEDGER_ADMIN_TOKEN", "same-token-1234567890")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("Invalid setting LEDGER_ADMIN_TOKEN: must differ from LEDGER_API_TOKEN");
  }

  @Test
  void secretsComeFromTheFilesTheirTwinsName(@TempDir Path dir) throws Exception {
    Path service = dir.resolve("service");
    Path admin = dir.resolve("admin");
    Path stripe = dir.resolve("stripe");
    Files.writeString(service, "service-token-from-file-1,service-token-from-file-0\n");
    Files.writeString(admin, "admin-token-from-file-00\n");
    Files.writeString(stripe, "sk_test_from_file\n");
    LedgerConfig c = ConfigLoader.load(Map.of("LEDGER_API_TOKEN_FILE", service.toString(),
        "LEDGER_ADMIN_TOKEN_FILE", admin.toString(), "STRIPE_API_KEY_FILE", stripe.toString()));
    assertThat(c.apiTokens()).containsExactly("service-token-from-file-1", "service-token-from-file-0");
    assertThat(c.adminTokens()).containsExactly("admin-token-from-file-00");
    assertThat(c.stripe().apiKey()).isEqualTo("sk_test_from_file");
    assertThat(c.toString()).doesNotContain("from-file", "from_file");

    assertThatThrownBy(() -> ConfigLoader.load(Map.of("STRIPE_API_KEY_FILE", stripe.toString(),
        "STRIPE_API_KEY", "sk_test_direct")))
        .isInstanceOf(ConfigException.class).hasMessage("Set STRIPE_API_KEY or STRIPE_API_KEY_FILE, not both");
    Path missing = dir.resolve("nope");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("STRIPE_WEBHOOK_SECRET_FILE", missing.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessage("Invalid setting STRIPE_WEBHOOK_SECRET_FILE: cannot read " + missing + " (NoSuchFileException)");
    Path empty = dir.resolve("empty");
    Files.writeString(empty, "\n");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("API_KEY_ENCRYPTION_SECRET_FILE", empty.toString())))
        .isInstanceOf(ConfigException.class).hasMessageContaining("is empty");
    Path secret = dir.resolve("vault");
    Files.writeString(secret, "0123456789abcdef0123456789abcdef\n");
    assertThat(ConfigLoader.load(Map.of("API_KEY_ENCRYPTION_SECRET_FILE", secret.toString())).apiKeySecret())
        .isNotNull();
  }

  @Test
  void severalTokensPerRoleAllowARotation() {
    LedgerConfig c = ConfigLoader.load(Map.of("LEDGER_API_TOKEN", "service-token-new-0001, service-token-old-0001",
        "LEDGER_ADMIN_TOKEN", "admin-token-only-00001"));
    assertThat(c.apiTokens()).containsExactly("service-token-new-0001", "service-token-old-0001");
    assertInvalid("LEDGER_API_TOKEN", "service-token-new-0001,,", "Invalid setting LEDGER_API_TOKEN: must be at least 16");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("LEDGER_API_TOKEN", "service-token-new-0001,shared-token-00001",
        "LEDGER_ADMIN_TOKEN", "shared-token-00001")))
        .hasMessage("Invalid setting LEDGER_ADMIN_TOKEN: must differ from LEDGER_API_TOKEN");
  }

  private static void assertInvalid(String name, String value, String messageStart) {
    assertThatThrownBy(() -> ConfigLoader.load(Map.of(name, value)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(messageStart);
  }
}
