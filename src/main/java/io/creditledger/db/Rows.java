package io.creditledger.db;

import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;

/** Reading rows of the reactive client. */
public final class Rows {
  private Rows() {
  }

  /** A timestamptz column as an Instant, or null. */
  public static Instant instant(Row row, String column) {
    OffsetDateTime t = row.getOffsetDateTime(column);
    return t == null ? null : t.toInstant();
  }

  /** The first row, if there is one. */
  public static Optional<Row> first(RowSet<Row> rows) {
    return rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next());
  }
}
