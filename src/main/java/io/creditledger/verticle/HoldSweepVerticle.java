package io.creditledger.verticle;

import io.creditledger.service.HoldService;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Every {@code HOLD_SWEEP_INTERVAL}, marks the holds past their expiry as expired. A hold stops counting at its
 * expiry whether or not it was swept (every read and write compares with the clock); the sweep keeps the table's
 * states true for lists and audits. Several instances sweep safely: each claims rows with SKIP LOCKED.
 */
public final class HoldSweepVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(HoldSweepVerticle.class);

  private final HoldService holds;
  private final Duration interval;
  private long timer = -1;
  private boolean sweeping;

  public HoldSweepVerticle(HoldService holds, Duration interval) {
    this.holds = holds;
    this.interval = interval;
  }

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(interval.toMillis(), t -> sweep());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  private void sweep() {
    if (sweeping) {
      return;
    }
    sweeping = true;
    holds.sweep()
        .onSuccess(n -> {
          if (n > 0) {
            log.info("Expired {} holds", n);
          }
        })
        .onFailure(e -> log.warn("Sweeping expired holds failed (next try in {}): {}", interval, e.toString()))
        .onComplete(ar -> sweeping = false);
  }
}
