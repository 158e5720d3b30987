package io.creditledger.config;

import java.time.Duration;

/**
 * The database connection pool.
 *
 * @param size connections in the pool
 * @param maxWaiting requests that may wait for a connection; beyond that a request is answered 503 at once
 * @param acquireTimeout how long a request may wait for a connection before it is answered 503 ledger_busy
 */
public record PoolSettings(int size, int maxWaiting, Duration acquireTimeout) {
}
