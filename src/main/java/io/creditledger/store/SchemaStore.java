package io.creditledger.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;

/** The schema's bookkeeping, as Liquibase keeps it. */
public final class SchemaStore {
  private static final String APPLIED = "SELECT count(*) FROM databasechangelog";

  /** How many changesets are applied to the database. */
  public Future<Long> appliedChangeSets(SqlClient client) {
    return client.query(APPLIED).execute().map(rows -> rows.iterator().next().getLong(0));
  }
}
