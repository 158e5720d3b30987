package io.creditledger.retry;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackoffAndPacingTest {
  private final Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));

  @Test
  void delaysDoubleWithJitterWithinHalfToAllOfTheCeiling() {
    assertThat(backoff.delay(1, () -> 0.0)).isEqualTo(Duration.ofMillis(50));
    assertThat(backoff.delay(1, () -> 0.9999)).isEqualTo(Duration.ofMillis(100));
    assertThat(backoff.delay(3, () -> 0.0)).isEqualTo(Duration.ofMillis(200));
    assertThat(backoff.delay(3, () -> 0.9999)).isEqualTo(Duration.ofMillis(400));
    assertThat(backoff.delay(10, () -> 0.9999)).as("capped").isEqualTo(Duration.ofSeconds(5));
    assertThat(backoff.delay(1000, () -> 0.0)).as("no overflow").isEqualTo(Duration.ofMillis(2500));
  }

  @Test
  void retryAfterIsAFloor() {
    assertThat(backoff.delay(1, () -> 0.5, Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(3));
    assertThat(backoff.delay(10, () -> 0.9999, Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(5));
    assertThat(backoff.delay(1, () -> 0.9999, null)).isEqualTo(Duration.ofMillis(100));
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void pacerSpacesCallsEvenlyAndForgetsIdleTime() {
    RatePacer pacer = new RatePacer(10);
    long t = 1_000_000_000L;
    assertThat(pacer.reserve(t)).isZero();
    assertThat(pacer.reserve(t)).isEqualTo(100_000_000L);
    assertThat(pacer.reserve(t)).isEqualTo(200_000_000L);
    assertThat(pacer.reserve(t + 50_000_000L)).isEqualTo(250_000_000L);
    long later = t + 10_000_000_000L;
    assertThat(pacer.reserve(later)).as("an idle pacer does not bank slots").isZero();
    assertThat(pacer.reserve(later)).isEqualTo(100_000_000L);
  }
}
