package io.creditledger.store;

import io.creditledger.db.Templates;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The scanner's SQL: claiming due users, so several instances split a backlog between them. */
public final class ResetClaims {
  /**
   * Due users without a live claim, oldest boundary first, claimed until the lease runs out. SKIP LOCKED passes
   * over claim rows another scanner is claiming at this moment, so scanners never wait on or take each other's
   * users. Claim rows are not the users' rows: a user whose balance is changing right now is still claimed.
   */
  private static final String CLAIM = """
    WITH due AS (
      SELECT c.user_id
      FROM reset_claims c
      JOIN users u ON u.user_id = c.user_id
      WHERE u.next_quota_reset <= #{now}
        AND c.claimed_until <= #{now}
      ORDER BY u.next_quota_reset
      LIMIT #{limit}
      FOR UPDATE OF c SKIP LOCKED)
    UPDATE reset_claims c
    SET claimed_until = #{leaseUntil}
    FROM due
    WHERE c.user_id = due.user_id
    RETURNING c.user_id""";

  private static final String RELEASE = """
    UPDATE reset_claims
    SET claimed_until = '-infinity', failures = 0, last_error = NULL
    WHERE user_id = ANY(#{userIds}::text[])""";

  /** A failed reset keeps its claim until {@code retryAt}, so the next batches pass over it. */
  private static final String FAILED = """
    UPDATE reset_claims
    SET claimed_until = #{retryAt}, failures = failures + 1, last_error = #{error}
    WHERE user_id = #{userId}
    RETURNING failures""";

  private static final String FAILURES = "SELECT failures FROM reset_claims WHERE user_id = #{userId}";

  /** How many times in a row the user's reset has failed. */
  public Future<Integer> failures(Pool pool, String userId) {
    return Templates.forQuery(pool, FAILURES).execute(Map.of("userId", userId))
        .map(rows -> rows.size() == 0 ? 0 : rows.iterator().next().getInteger(0));
  }

  /** Records a failed reset and holds the claim until {@code retryAt}. */
  public Future<Void> failed(Pool pool, String userId, String error, Instant retryAt) {
    return Templates.forUpdate(pool, FAILED).execute(Map.of("userId", userId,
        "error", error.length() > 1000 ? error.substring(0, 1000) : error, "retryAt", Now.sql(retryAt))).mapEmpty();
  }

  /** Gives the claims up once the users' resets are done, so the next cycle can claim them. */
  public Future<Void> release(Pool pool, List<String> userIds) {
    if (userIds.isEmpty()) {
      return Future.succeededFuture();
    }
    return Templates.forUpdate(pool, RELEASE).execute(Map.of("userIds", userIds.toArray(new String[0])))
        .mapEmpty();
  }

  public Future<List<String>> claim(Pool pool, int limit, Instant now, Instant leaseUntil) {
    return Templates.forQuery(pool, CLAIM)
        .execute(Map.of("now", Now.sql(now), "limit", limit, "leaseUntil", Now.sql(leaseUntil)))
        .map(rows -> {
          List<String> ids = new ArrayList<>(rows.size());
          for (Row r : rows) {
            ids.add(r.getString(0));
          }
          return ids;
        });
  }
}
