package io.creditledger.apikeys;

import io.creditledger.config.LedgerConfig;
import io.creditledger.config.PrivateFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Where the vault's secret comes from, decided once at startup (the edge): {@code API_KEY_ENCRYPTION_SECRET};
 * or, for the embedded database, a secret generated at first start and kept in {@code DATA_DIR/api-key-secret}
 * (owner-only), so the one-command run works; or nothing, which disables the vault. Blocking file I/O.
 */
public final class VaultSecret {
  private static final Logger log = LoggerFactory.getLogger(VaultSecret.class);
  static final String FILE = "api-key-secret";

  private VaultSecret() {
  }

  /** The vault's crypto, or null when the vault is disabled. */
  public static ApiKeyCrypto resolve(LedgerConfig config) {
    if (config.apiKeySecret() != null) {
      return new ApiKeyCrypto(config.apiKeySecret().bytes());
    }
    if (!config.embeddedDatabase()) {
      log.warn("API_KEY_ENCRYPTION_SECRET is not set: the API-key vault routes answer 503 vault_not_configured");
      return null;
    }
    Path file = config.dataDir().resolve(FILE);
    try {
      if (!Files.isRegularFile(file)) {
        byte[] secret = new byte[ApiKeyCrypto.SECRET_BYTES];
        new SecureRandom().nextBytes(secret);
        PrivateFile.write(file, Base64.getEncoder().encodeToString(secret));
        log.warn("API_KEY_ENCRYPTION_SECRET is not set: generated a vault secret in {}; set the variable in "
            + "production and keep it safe, or stored API keys cannot be read", file);
      }
      byte[] secret = Base64.getDecoder().decode(Files.readString(file, StandardCharsets.UTF_8).trim());
      return new ApiKeyCrypto(secret);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read or write " + file, e);
    }
  }

}
