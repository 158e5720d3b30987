package io.creditledger.domain;

/**
 * What placing, releasing or reading a hold answers: the hold, and the user's balance after the change (null for a
 * plain read).
 */
public record HoldAnswer(Hold hold, Balance balance) {
}
