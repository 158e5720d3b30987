package io.creditledger.config;

/**
 * The write path's group commit: balance-changing operations queue in the ledger's writer and are written many to a
 * transaction.
 *
 * @param maxSize the most operations one transaction takes
 * @param concurrency how many batch transactions may be in flight at once (each holds a pooled connection)
 * @param maxQueued operations that may wait for a batch; beyond that an operation is answered 503 ledger_busy
 */
public record BatchSettings(int maxSize, int concurrency, int maxQueued) {
}
