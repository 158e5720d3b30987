package io.creditledger.verticle;

import io.creditledger.config.LedgerConfig;
import io.creditledger.metrics.LedgerMeters;
import io.creditledger.store.MetricsStore;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Every {@code METRICS_POLL_INTERVAL}, reads the gauges that live in the database (outbox rows, due resets). */
public final class MetricsVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(MetricsVerticle.class);

  private final Pool pool;
  private final LedgerConfig config;
  private final MetricsStore store;
  private final LedgerMeters meters;
  private long timer = -1;
  private boolean reading;

  public MetricsVerticle(Pool pool, LedgerConfig config, MetricsStore store, LedgerMeters meters) {
    this.pool = pool;
    this.config = config;
    this.store = store;
    this.meters = meters;
  }

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(0, config.metrics().pollInterval().toMillis(), t -> read());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  private void read() {
    if (reading) {
      return;
    }
    reading = true;
    store.state(pool, Now.of(config.clock())).onComplete(ar -> {
      reading = false;
      if (ar.succeeded()) {
        meters.databaseState(ar.result().outboxByStatus(), ar.result().oldestPendingSeconds(),
            ar.result().resetDueUsers());
      } else {
        log.debug("Reading the metrics' database state failed: {}", ar.cause().toString());
      }
    });
  }
}
