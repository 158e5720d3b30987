package io.creditledger.bench;

import java.util.Arrays;

/**
 * Every latency of a run, in microseconds, kept exactly (a growable array, sorted once when read), so the
 * percentiles are the observed values and not a histogram's approximation. A run of a minute at a few
 * thousand requests per second is a few megabytes. Thread-safe.
 */
final class Latencies {
  private long[] values = new long[4096];
  private int size;
  private boolean sorted = true;

  synchronized void record(long micros) {
    if (size == values.length) {
      values = Arrays.copyOf(values, values.length * 2);
    }
    values[size++] = micros;
    sorted = false;
  }

  synchronized int count() {
    return size;
  }

  /**
   * The value at or below which {@code percent} of the samples lie (nearest rank), in milliseconds; null when
   * there is no sample.
   */
  synchronized Double percentileMs(double percent) {
    if (size == 0) {
      return null;
    }
    if (!sorted) {
      Arrays.sort(values, 0, size);
      sorted = true;
    }
    int rank = (int) Math.ceil(percent / 100.0 * size);
    int index = Math.min(size - 1, Math.max(0, rank - 1));
    return values[index] / 1000.0;
  }

  synchronized Double meanMs() {
    if (size == 0) {
      return null;
    }
    double sum = 0;
    for (int i = 0; i < size; i++) {
      sum += values[i];
    }
    return sum / size / 1000.0;
  }
}
