package io.creditledger.db;

import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.time.OffsetDateTime;

/** Reading rows of the reactive client. */
public final class Rows {
  private Rows() {
  }

  /** A timestamptz column as an Instant, or null. */
  public static Instant instant(Row row, String column) {
    OffsetDateTime t = row.getOffsetDateTime(column);
    return t == null ? null : t.toInstant();
  }
}
