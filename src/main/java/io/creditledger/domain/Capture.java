package io.creditledger.domain;

/**
 * A hold's capture: the consumption it made (answered like a consumption), the hold it closed, and the credits of
 * the hold it let go ({@code held - consumed}, or 0 when it consumed more than was held).
 */
public record Capture(String holdId, long released, Consumption consumption) {
}
