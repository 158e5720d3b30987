package io.creditledger.service;

import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.Readiness;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.store.SchemaStore;
import io.creditledger.store.Stores;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

/** Ready when the database answers and holds every changeset of the changelog this build carries. */
public final class ReadinessService {
  private final Pool pool;
  private final SchemaStore schema;
  private final int expectedChangeSets;

  public ReadinessService(Pool pool, Stores stores, int expectedChangeSets) {
    this.pool = pool;
    this.schema = stores.schema();
    this.expectedChangeSets = expectedChangeSets;
  }

  public Future<Answer<Readiness>> check(Command.Ready c) {
    return schema.appliedChangeSets(pool).map(applied -> {
      if (applied < expectedChangeSets) {
        throw new LedgerException(ErrorCode.MIGRATIONS_PENDING,
            (expectedChangeSets - applied) + " database migrations are not applied");
      }
      return Answer.ok(new Readiness(applied));
    });
  }
}
