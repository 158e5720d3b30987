package io.creditledger.config;

/**
 * The write path's group commit: balance-changing operations queue in the ledger's writer and are written many to a
 * transaction.
 *
 * @param maxSize the most operations one transaction takes
 * @param concurrency how many batch transactions may be in flight at once (each holds a pooled connection)
 * @param overlapMin operations that must be waiting before a batch starts beside one already in flight (the first
 *     starts at once): a batch has a fixed cost in round trips and statements, so two small batches cost more than
 *     one large one
 * @param maxQueued operations that may wait for a batch; beyond that an operation is answered 503 ledger_busy
 */
public record BatchSettings(int maxSize, int concurrency, int overlapMin, int maxQueued) {
}
