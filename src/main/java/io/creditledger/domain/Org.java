package io.creditledger.domain;

import java.time.Instant;

/**
 * An organization: a shared credit pool its members spend from. {@code account} is its ledger account (the cycle,
 * the price per credit, the Stripe customer, the usage this cycle); {@code creditLimit} caps what the org may consume
 * in one cycle (null: no cap).
 */
public record Org(String orgId, String name, Long creditLimit, User account, Instant createdAt, Instant updatedAt) {
}
