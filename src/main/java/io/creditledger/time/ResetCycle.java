package io.creditledger.time;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.Period;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * The length of a user's quota cycle. Calendar cycles ({@code P1M}) keep the user's anchor day, clamped to
 * the end of shorter months (anchor 31: Jan 31, Feb 28/29, Mar 31) and the time of day of the anchor.
 * Fixed cycles ({@code PT5S}, {@code P1D}) are plain durations, meant for tests and demos.
 */
public sealed interface ResetCycle {

  /** The boundary one cycle after {@code boundary}. */
  Instant next(Instant boundary, int anchorDay);

  /** The first boundary after {@code created}: when a new user's first cycle ends. */
  default Instant firstReset(Instant created) {
    return next(created, anchorDay(created));
  }

  /**
   * The first boundary strictly after {@code now}, stepping from {@code boundary}. A user whose resets were
   * missed for several cycles jumps straight to it: one reset, not one per missed cycle.
   */
  default Instant firstBoundaryAfter(Instant boundary, int anchorDay, Instant now) {
    Instant b = next(boundary, anchorDay);
    while (!b.isAfter(now)) {
      b = next(b, anchorDay);
    }
    return b;
  }

  static int anchorDay(Instant created) {
    return created.atZone(ZoneOffset.UTC).getDayOfMonth();
  }

  /** Parses an ISO-8601 period of months/years ({@code P1M}) or a duration ({@code PT5S}, {@code P1D}). */
  static ResetCycle parse(String text) {
    String t = text.trim().toUpperCase();
    if (!t.contains("T")) {
      try {
        Period p = Period.parse(t);
        if (p.getDays() == 0 && p.toTotalMonths() > 0 && !p.isNegative()) {
          return new Months((int) p.toTotalMonths());
        }
        if (p.getYears() == 0 && p.getMonths() == 0 && p.getDays() > 0) {
          return new Fixed(Duration.ofDays(p.getDays()));
        }
      } catch (DateTimeParseException ignored) {
        // fall through to the error below
      }
    } else {
      try {
        Duration d = Duration.parse(t);
        if (!d.isNegative() && !d.isZero()) {
          return new Fixed(d);
        }
      } catch (DateTimeParseException ignored) {
        // fall through to the error below
      }
    }
    throw new IllegalArgumentException(
        "expected a positive ISO-8601 period of whole months (P1M) or a duration (PT5S, P1D), got \"" + text + "\"");
  }

  /** Calendar months from the anchor day. */
  record Months(int months) implements ResetCycle {
    @Override
    public Instant next(Instant boundary, int anchorDay) {
      LocalDateTime at = LocalDateTime.ofInstant(boundary, ZoneOffset.UTC).plusMonths(months);
      int day = Math.min(anchorDay, at.toLocalDate().lengthOfMonth());
      return at.withDayOfMonth(day).toInstant(ZoneOffset.UTC);
    }

    @Override
    public String toString() {
      return "P" + months + "M";
    }
  }

  /** A fixed duration. */
  record Fixed(Duration length) implements ResetCycle {
    @Override
    public Instant next(Instant boundary, int anchorDay) {
      return boundary.plus(length);
    }

    @Override
    public Instant firstBoundaryAfter(Instant boundary, int anchorDay, Instant now) {
      if (boundary.isAfter(now)) {
        return boundary.plus(length);
      }
      long missed = Duration.between(boundary, now).toNanos() / length.toNanos();
      return boundary.plus(length.multipliedBy(missed + 1));
    }

    @Override
    public String toString() {
      return length.toString();
    }
  }
}
