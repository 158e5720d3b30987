package io.creditledger.domain;

import java.time.Instant;

/** One line of a user's journal, with the grant it changed. */
public record JournalEntry(long entryId, long grantId, String grantOperationId, GrantType grantType, String operationId,
                           JournalKind kind, long delta, long balanceAfter, String description, Instant createdAt) {
}
