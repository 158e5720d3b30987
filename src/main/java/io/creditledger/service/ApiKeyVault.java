package io.creditledger.service;

import io.creditledger.apikeys.ApiKeyCrypto;
import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.Answer;
import io.creditledger.domain.ApiKey;
import io.creditledger.domain.Command;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.store.ApiKeyStore;
import io.creditledger.store.Stores;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Users' third-party API keys, encrypted at rest ({@link ApiKeyCrypto}): {@code encryptAndStoreApiKey},
 * {@code retrieveAndDecryptApiKey}, {@code clearApiKey}. Keys are never logged, and only the retrieve
 * operation answers with one. The key's owner and type are the ciphertext's associated data, so a value copied to
 * another user or type does not decrypt.
 */
public final class ApiKeyVault {
  private static final Logger log = LoggerFactory.getLogger(ApiKeyVault.class);

  private final Pool pool;
  private final LedgerConfig config;
  private final ApiKeyCrypto crypto;
  private final ApiKeyStore store;

  /** @param crypto null disables the vault (the commands are refused 503 vault_not_configured when read) */
  public ApiKeyVault(Pool pool, LedgerConfig config, ApiKeyCrypto crypto, Stores stores) {
    this.pool = pool;
    this.config = config;
    this.crypto = crypto;
    this.store = stores.apiKeys();
  }

  private static String associatedData(String userId, String type) {
    return userId + "\u0000" + type;
  }

  private ApiKeyCrypto crypto() {
    if (crypto == null) {
      throw new LedgerException(ErrorCode.VAULT_NOT_CONFIGURED,
          "The API-key vault is off: API_KEY_ENCRYPTION_SECRET is not set");
    }
    return crypto;
  }

  /** Stores the key; created (201) when the user had none of this type. */
  public Future<Answer<ApiKey>> encryptAndStoreApiKey(Command.PutApiKey c) {
    String ciphertext = crypto().encrypt(c.apiKey(), associatedData(c.userId(), c.type()));
    return store.upsert(pool, c.userId(), c.type(), ciphertext, Now.of(config.clock())).map(saved -> {
      ApiKey.Stored stored = new ApiKey.Stored(c.userId(), c.type(),
          saved.orElseThrow(() -> LedgerException.userNotFound(c.userId())).updatedAt());
      return saved.get().created() ? Answer.<ApiKey>created(stored) : Answer.<ApiKey>ok(stored);
    });
  }

  public Future<Answer<ApiKey>> retrieveAndDecryptApiKey(Command.ApiKeyRef c) {
    ApiKeyCrypto keys = crypto();
    return store.get(pool, c.userId(), c.type()).compose(found -> {
      if (found.isEmpty()) {
        return notFound(c);
      }
      try {
        String apiKey = keys.decrypt(found.get().ciphertext(), associatedData(c.userId(), c.type()));
        return Future.succeededFuture(Answer.<ApiKey>ok(new ApiKey.Value(c.userId(), c.type(), apiKey,
            found.get().updatedAt())));
      } catch (ApiKeyCrypto.DecryptionException e) {
        log.error("The stored {} key of user {} cannot be decrypted: {}", c.type(), c.userId(), e.getMessage());
        throw new LedgerException(ErrorCode.API_KEY_UNREADABLE,
            "The stored key cannot be decrypted with the configured secret");
      }
    });
  }

  public Future<Answer<ApiKey>> clearApiKey(Command.ApiKeyRef c) {
    crypto();
    return store.delete(pool, c.userId(), c.type()).compose(deleted -> deleted
        ? Future.succeededFuture(Answer.<ApiKey>ok(new ApiKey.Deleted(c.userId(), c.type())))
        : notFound(c));
  }

  private Future<Answer<ApiKey>> notFound(Command.ApiKeyRef c) {
    return store.userExists(pool, c.userId()).map(exists -> {
      if (!exists) {
        throw LedgerException.userNotFound(c.userId());
      }
      throw new LedgerException(ErrorCode.API_KEY_NOT_FOUND, "User \"" + c.userId() + "\" has no " + c.type() + " key");
    });
  }
}
