package io.creditledger.support;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock tests move by hand, to reach expiry dates and reset boundaries without waiting. A frozen clock stands
 * still between moves; a ticking one also runs at real speed (for the parts that wait, such as retry backoff).
 */
public final class MutableClock extends Clock {
  private final boolean ticking;
  private volatile Instant base;
  private volatile long baseNanos;

  private MutableClock(Instant start, boolean ticking) {
    this.ticking = ticking;
    set(start);
  }

  public MutableClock(Instant start) {
    this(start, false);
  }

  public static MutableClock ticking(Instant start) {
    return new MutableClock(start, true);
  }

  public synchronized void set(Instant instant) {
    base = instant;
    baseNanos = System.nanoTime();
  }

  public synchronized void advance(Duration d) {
    set(instant().plus(d));
  }

  @Override
  public Instant instant() {
    return ticking ? base.plusNanos(System.nanoTime() - baseNanos) : base;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
