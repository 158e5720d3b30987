package io.creditledger.time;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResetCycleTest {
  private final ResetCycle monthly = ResetCycle.parse("P1M");

  @Test
  void parsesMonthsAndDurations() {
    assertThat(ResetCycle.parse("P1M")).isEqualTo(new ResetCycle.Months(1));
    assertThat(ResetCycle.parse("P1Y")).isEqualTo(new ResetCycle.Months(12));
    assertThat(ResetCycle.parse("PT5S")).isEqualTo(new ResetCycle.Fixed(Duration.ofSeconds(5)));
    assertThat(ResetCycle.parse("P2D")).isEqualTo(new ResetCycle.Fixed(Duration.ofDays(2)));
    assertThatThrownBy(() -> ResetCycle.parse("P1M2D")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ResetCycle.parse("-PT5S")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ResetCycle.parse("P0M")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anchor31ClampsToMonthEndAndComesBack() {
    Instant jan31 = Instant.parse("2026-01-31T08:00:00Z");
    Instant feb = monthly.next(jan31, 31);
    assertThat(feb).isEqualTo(Instant.parse("2026-02-28T08:00:00Z"));
    Instant mar = monthly.next(feb, 31);
    assertThat(mar).isEqualTo(Instant.parse("2026-03-31T08:00:00Z"));
    assertThat(monthly.next(mar, 31)).isEqualTo(Instant.parse("2026-04-30T08:00:00Z"));
    assertThat(monthly.firstReset(jan31)).isEqualTo(feb);
  }

  @Test
  void leapYearFebruary() {
    Instant feb = monthly.next(Instant.parse("2028-01-30T00:00:00Z"), 30);
    assertThat(feb).isEqualTo(Instant.parse("2028-02-29T00:00:00Z"));
    assertThat(monthly.next(feb, 30)).isEqualTo(Instant.parse("2028-03-30T00:00:00Z"));
  }

  @Test
  void missedMonthsJumpToTheFirstFutureBoundary() {
    Instant due = Instant.parse("2026-01-31T08:00:00Z");
    Instant now = Instant.parse("2026-06-15T00:00:00Z");
    assertThat(monthly.firstBoundaryAfter(due, 31, now)).isEqualTo(Instant.parse("2026-06-30T08:00:00Z"));
    assertThat(monthly.firstBoundaryAfter(due, 31, Instant.parse("2026-02-01T00:00:00Z")))
        .isEqualTo(Instant.parse("2026-02-28T08:00:00Z"));
  }

  @Test
  void fixedCyclesJumpArithmetically() {
    ResetCycle fiveSeconds = ResetCycle.parse("PT5S");
    Instant due = Instant.parse("2026-01-01T00:00:00Z");
    assertThat(fiveSeconds.firstBoundaryAfter(due, 1, Instant.parse("2026-01-01T00:00:12Z")))
        .isEqualTo(Instant.parse("2026-01-01T00:00:15Z"));
    assertThat(fiveSeconds.firstBoundaryAfter(due, 1, Instant.parse("2026-01-01T00:00:15Z")))
        .isEqualTo(Instant.parse("2026-01-01T00:00:20Z"));
    assertThat(fiveSeconds.firstBoundaryAfter(due, 1, due)).isEqualTo(Instant.parse("2026-01-01T00:00:05Z"));
  }
}
