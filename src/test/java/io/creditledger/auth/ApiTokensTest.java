package io.creditledger.auth;

import io.creditledger.config.ConfigLoader;
import io.creditledger.config.LedgerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ApiTokensTest {

  @Test
  void generatesMissingTokensOnceAndKeepsThem(@TempDir Path dir) throws Exception {
    LedgerConfig config = ConfigLoader.load(Map.of("DATA_DIR", dir.toString()));
    ApiTokens first = ApiTokens.resolve(config);
    assertThat(first.generated()).isTrue();
    assertThat(first.service()).startsWith("svc_").hasSizeGreaterThan(40);
    assertThat(first.admin()).startsWith("adm_").isNotEqualTo(first.service());
    Path file = dir.resolve("tokens.json");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");

    ApiTokens second = ApiTokens.resolve(config);
    assertThat(second.generated()).isFalse();
    assertThat(second.service()).isEqualTo(first.service());
    assertThat(second.admin()).isEqualTo(first.admin());
  }

  @Test
  void configuredTokensWinAndRolesAreDistinct(@TempDir Path dir) {
    LedgerConfig config = ConfigLoader.load(Map.of("DATA_DIR", dir.toString(),
        "LEDGER_API_TOKEN", "service-token-0123456789", "LEDGER_ADMIN_TOKEN", "admin-token-0123456789"));
    ApiTokens tokens = ApiTokens.resolve(config);
    assertThat(tokens.generated()).isFalse();
    assertThat(Files.exists(dir.resolve("tokens.json"))).isFalse();
    assertThat(tokens.roleOf("service-token-0123456789")).isEqualTo(ApiTokens.Role.SERVICE);
    assertThat(tokens.roleOf("admin-token-0123456789")).isEqualTo(ApiTokens.Role.ADMIN);
    assertThat(tokens.roleOf("service-token-012345678")).isNull();
    assertThat(tokens.roleOf("")).isNull();
    assertThat(tokens.roleOf(null)).isNull();
    assertThat(tokens.toString()).doesNotContain("token-0123456789");
  }

  @Test
  void duringARotationTheOldAndTheNewTokenBothWork(@TempDir Path dir) {
    LedgerConfig config = ConfigLoader.load(Map.of("DATA_DIR", dir.toString(),
        "LEDGER_API_TOKEN", "service-token-new-00001,service-token-old-00001",
        "LEDGER_ADMIN_TOKEN", "admin-token-new-000001,admin-token-old-000001"));
    ApiTokens tokens = ApiTokens.resolve(config);
    assertThat(tokens.roleOf("service-token-new-00001")).isEqualTo(ApiTokens.Role.SERVICE);
    assertThat(tokens.roleOf("service-token-old-00001")).isEqualTo(ApiTokens.Role.SERVICE);
    assertThat(tokens.roleOf("admin-token-new-000001")).isEqualTo(ApiTokens.Role.ADMIN);
    assertThat(tokens.roleOf("admin-token-old-000001")).isEqualTo(ApiTokens.Role.ADMIN);
    assertThat(tokens.roleOf("service-token-new-00001,service-token-old-00001")).isNull();
    assertThat(tokens.service()).isEqualTo("service-token-new-00001");
  }
}
