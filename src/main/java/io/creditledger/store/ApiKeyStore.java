package io.creditledger.store;

import io.creditledger.db.Templates;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import static io.creditledger.time.Now.sql;

/** The API-key vault's SQL: keys are stored as ciphertext only, one per user and key type. */
public final class ApiKeyStore {
  /** Stores the key when the user exists; answers nothing otherwise. */
  private static final String UPSERT = """
      INSERT INTO api_keys (user_id, key_type, ciphertext, created_at, updated_at)
      SELECT #{userId}, #{type}, #{ciphertext}, #{now}, #{now}
      WHERE EXISTS (SELECT 1 FROM users WHERE user_id = #{userId})
      ON CONFLICT (user_id, key_type) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, updated_at = EXCLUDED.updated_at
      RETURNING (xmax = 0) AS created, updated_at""";

  private static final String GET = """
      SELECT ciphertext, updated_at FROM api_keys WHERE user_id = #{userId} AND key_type = #{type}""";

  private static final String DELETE = "DELETE FROM api_keys WHERE user_id = #{userId} AND key_type = #{type}";

  private static final String USER_EXISTS = "SELECT 1 FROM users WHERE user_id = #{userId}";

  /** A stored key: {@code created} when it was not there before. */
  public record Saved(boolean created, Instant updatedAt) {
  }

  public record Stored(String ciphertext, Instant updatedAt) {
  }

  /** Empty when there is no such user. */
  public Future<Optional<Saved>> upsert(SqlClient client, String userId, String type, String ciphertext, Instant now) {
    return Templates.forQuery(client, UPSERT)
        .execute(Map.of("userId", userId, "type", type, "ciphertext", ciphertext, "now", sql(now)))
        .map(rows -> first(rows).map(r -> new Saved(r.getBoolean("created"), instant(r))));
  }

  public Future<Optional<Stored>> get(SqlClient client, String userId, String type) {
    return Templates.forQuery(client, GET).execute(Map.of("userId", userId, "type", type))
        .map(rows -> first(rows).map(r -> new Stored(r.getString("ciphertext"), instant(r))));
  }

  /** Whether there was a key to delete. */
  public Future<Boolean> delete(SqlClient client, String userId, String type) {
    return Templates.forUpdate(client, DELETE).execute(Map.of("userId", userId, "type", type))
        .map(r -> r.rowCount() > 0);
  }

  public Future<Boolean> userExists(SqlClient client, String userId) {
    return Templates.forQuery(client, USER_EXISTS).execute(Map.of("userId", userId)).map(rows -> rows.size() > 0);
  }

  private static Optional<Row> first(Iterable<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? Optional.of(it.next()) : Optional.empty();
  }

  private static Instant instant(Row r) {
    return r.getOffsetDateTime("updated_at").toInstant();
  }
}
