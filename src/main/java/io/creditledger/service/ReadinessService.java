package io.creditledger.service;

import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.Readiness;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

/** Ready when the database answers and holds every changeset of the changelog this build carries. */
public final class ReadinessService {
  private static final String APPLIED = "SELECT count(*) FROM databasechangelog";

  private final Pool pool;
  private final int expectedChangeSets;

  public ReadinessService(Pool pool, int expectedChangeSets) {
    this.pool = pool;
    this.expectedChangeSets = expectedChangeSets;
  }

  public Future<Answer<Readiness>> check(Command.Ready c) {
    return pool.query(APPLIED).execute().map(rows -> {
      long applied = rows.iterator().next().getLong(0);
      if (applied < expectedChangeSets) {
        throw new LedgerException(ErrorCode.MIGRATIONS_PENDING,
            (expectedChangeSets - applied) + " database migrations are not applied");
      }
      return Answer.ok(new Readiness(applied));
    });
  }
}
