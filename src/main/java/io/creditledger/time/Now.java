package io.creditledger.time;

import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/** Reads the injected clock at PostgreSQL's precision (microseconds), so a stored instant reads back equal. */
public final class Now {
  private Now() {
  }

  public static Instant of(Clock clock) {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  public static OffsetDateTime sql(Instant instant) {
    return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
  }
}
