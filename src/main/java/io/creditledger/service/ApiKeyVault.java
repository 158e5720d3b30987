package io.creditledger.service;

import io.creditledger.apikeys.ApiKeyCrypto;
import io.creditledger.wire.Input;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Reply;
import io.creditledger.config.LedgerConfig;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.templates.SqlTemplate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * Users' third-party API keys, encrypted at rest ({@link ApiKeyCrypto}): {@code encryptAndStoreApiKey},
 * {@code retrieveAndDecryptApiKey}, {@code clearApiKey}. Keys are never logged, and only the retrieve
 * operation answers with one.
 */
public final class ApiKeyVault {
  private static final Logger log = LoggerFactory.getLogger(ApiKeyVault.class);
  private static final int KEY_MAX = 4096;

  private static final String UPSERT = "INSERT INTO api_keys (user_id, key_type, ciphertext, created_at, updated_at) "
      + "SELECT #{userId}, #{type}, #{ciphertext}, #{now}, #{now} WHERE EXISTS (SELECT 1 FROM users WHERE user_id = #{userId}) "
      + "ON CONFLICT (user_id, key_type) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, updated_at = EXCLUDED.updated_at "
      + "RETURNING (xmax = 0) AS created, updated_at";
  private static final String GET = "SELECT ciphertext, updated_at FROM api_keys WHERE user_id = #{userId} AND key_type = #{type}";
  private static final String DELETE = "DELETE FROM api_keys WHERE user_id = #{userId} AND key_type = #{type}";
  private static final String USER_EXISTS = "SELECT 1 FROM users WHERE user_id = #{userId}";

  private final Pool pool;
  private final LedgerConfig config;
  private final ApiKeyCrypto crypto;

  /** @param crypto null disables the vault: every operation answers 503 vault_not_configured */
  public ApiKeyVault(Pool pool, LedgerConfig config, ApiKeyCrypto crypto) {
    this.pool = pool;
    this.config = config;
    this.crypto = crypto;
  }

  private record Target(String userId, String type) {
    String associatedData() {
      return userId + "\u0000" + type;
    }
  }

  private Target target(Input in) {
    if (crypto == null) {
      throw new LedgerException(ErrorCode.VAULT_NOT_CONFIGURED,
          "The API-key vault is off: API_KEY_ENCRYPTION_SECRET is not set");
    }
    String userId = in.id("userId");
    String type = in.string("type", 64);
    if (!config.apiKeyTypes().contains(type)) {
      throw new LedgerException(ErrorCode.UNKNOWN_KEY_TYPE, "Key type must be one of " + String.join(", ",
          config.apiKeyTypes()));
    }
    return new Target(userId, type);
  }

  /** {@code {userId, type, apiKey}} → {@code {userId, type, stored, updatedAt}}; 201 when new. */
  public Future<Reply> encryptAndStoreApiKey(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "type", "apiKey"));
    Target t = target(in);
    String apiKey = in.string("apiKey", KEY_MAX);
    if (!apiKey.equals(apiKey.strip()) || apiKey.chars().anyMatch(Character::isISOControl)) {
      throw Input.invalid("apiKey", "must not contain spaces at the ends or control characters");
    }
    String ciphertext = crypto.encrypt(apiKey, t.associatedData());
    Instant now = Now.of(config.clock());
    return SqlTemplate.forQuery(pool, UPSERT).execute(Map.of("userId", t.userId(), "type", t.type(),
            "ciphertext", ciphertext, "now", Now.sql(now)))
        .map(rows -> {
          if (rows.size() == 0) {
            throw LedgerException.userNotFound(t.userId());
          }
          Row row = rows.iterator().next();
          JsonObject out = new JsonObject().put("userId", t.userId()).put("type", t.type()).put("stored", true)
              .put("updatedAt", row.getOffsetDateTime("updated_at").toInstant().toString());
          return row.getBoolean("created") ? Reply.created(out) : Reply.ok(out);
        });
  }

  /** {@code {userId, type}} → {@code {userId, type, apiKey, updatedAt}}. */
  public Future<Reply> retrieveAndDecryptApiKey(JsonObject body) {
    Target t = target(Input.of(body, Set.of("userId", "type")));
    return SqlTemplate.forQuery(pool, GET).execute(Map.of("userId", t.userId(), "type", t.type()))
        .compose(rows -> {
          if (rows.size() == 0) {
            return notFound(t);
          }
          Row row = rows.iterator().next();
          try {
            String apiKey = crypto.decrypt(row.getString("ciphertext"), t.associatedData());
            return Future.succeededFuture(Reply.ok(new JsonObject().put("userId", t.userId()).put("type", t.type())
                .put("apiKey", apiKey).put("updatedAt", row.getOffsetDateTime("updated_at").toInstant().toString())));
          } catch (ApiKeyCrypto.DecryptionException e) {
            log.error("The stored {} key of user {} cannot be decrypted: {}", t.type(), t.userId(), e.getMessage());
            throw new LedgerException(ErrorCode.API_KEY_UNREADABLE,
                "The stored key cannot be decrypted with the configured secret");
          }
        });
  }

  /** {@code {userId, type}} → {@code {userId, type, deleted: true}}. */
  public Future<Reply> clearApiKey(JsonObject body) {
    Target t = target(Input.of(body, Set.of("userId", "type")));
    return SqlTemplate.forUpdate(pool, DELETE).execute(Map.of("userId", t.userId(), "type", t.type()))
        .compose(r -> r.rowCount() == 0 ? notFound(t) : Future.succeededFuture(
            Reply.ok(new JsonObject().put("userId", t.userId()).put("type", t.type()).put("deleted", true))));
  }

  private Future<Reply> notFound(Target t) {
    return SqlTemplate.forQuery(pool, USER_EXISTS).execute(Map.of("userId", t.userId())).map(rows -> {
      if (rows.size() == 0) {
        throw LedgerException.userNotFound(t.userId());
      }
      throw new LedgerException(ErrorCode.API_KEY_NOT_FOUND, "User \"" + t.userId() + "\" has no " + t.type() + " key");
    });
  }
}
