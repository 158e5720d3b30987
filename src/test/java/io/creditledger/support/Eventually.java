package io.creditledger.support;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for something asynchronous (the relay, a timer) to come true, failing with a message when it does not. */
public final class Eventually {
  private Eventually() {
  }

  public static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("Timed out after " + timeout + " waiting for: " + what);
      }
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("Interrupted waiting for: " + what);
      }
    }
  }
}
