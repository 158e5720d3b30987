package io.creditledger.domain;

/** The outcome of a consumption: all of {@code consumed}, how much came from purchase grants, the new balance. */
public record Consumption(String operationId, long consumed, long fromPurchased, Balance balance) {
}
