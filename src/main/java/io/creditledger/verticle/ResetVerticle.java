package io.creditledger.verticle;

import io.creditledger.api.Addresses;
import io.creditledger.api.LedgerClient;
import io.creditledger.config.LedgerConfig;
import io.creditledger.config.ResetSettings;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.ResetRun;
import io.creditledger.metrics.LedgerMeters;
import io.creditledger.retry.Backoff;
import io.creditledger.store.ResetClaims;
import io.creditledger.time.Now;
import io.creditledger.wire.Commands;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Schedules resets: every {@code RESET_SCAN_INTERVAL} (and when an operator asks through
 * {@code POST /v1/admin/resets/run}) it claims due users in batches and asks the ledger to reset each one
 * ({@code ledger.resets.apply}; the ledger's writer resets the users in flight together, one transaction per write
 * batch), {@code RESET_CONCURRENCY} at a time with a pause between batches, until no user is due. Several instances share the work through the claims.
 */
public final class ResetVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(ResetVerticle.class);

  private final Pool pool;
  private final Commands commands;
  private final ResetClaims claims;
  private final LedgerConfig config;
  private final ResetSettings settings;
  private static final Duration MAX_FAILURE_BACKOFF = Duration.ofDays(1);
  private final Backoff failureBackoff;
  private LedgerClient ledger;
  private long timer;
  private boolean scanning;
  private boolean stopped;

  private final LedgerMeters meters;

  public ResetVerticle(Pool pool, LedgerConfig config, Commands commands, ResetClaims claims, LedgerMeters meters) {
    this.meters = meters;
    this.pool = pool;
    this.commands = commands;
    this.claims = claims;
    this.config = config;
    this.settings = config.resets();
    this.failureBackoff = new Backoff(settings.scanInterval(), MAX_FAILURE_BACKOFF.compareTo(settings.scanInterval()) < 0
        ? settings.scanInterval() : MAX_FAILURE_BACKOFF);
  }

  @Override
  public Future<?> start() {
    ledger = new LedgerClient(vertx);
    long every = settings.scanInterval().toMillis();
    timer = vertx.setPeriodic(every, every, t -> scheduledScan());
    return new Endpoints(vertx.eventBus()).serve(Addresses.RESETS_RUN, Command.RunResets.class,
        commands::runResets, this::runNow, Json::resetRun);
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  private void scheduledScan() {
    if (scanning) {
      return;
    }
    scanning = true;
    drain().onComplete(ar -> {
      scanning = false;
      if (ar.failed()) {
        log.warn("Reset scan failed: {}", ar.cause().toString());
      } else if (ar.result().reset().get() > 0) {
        log.info("Reset {} users", ar.result().reset().get());
      }
    });
  }

  private Future<Answer<ResetRun>> runNow(Command.RunResets c) {
    return drain().map(run -> {
      List<ResetRun.Failure> failed = new ArrayList<>();
      run.failed().forEach((userId, error) -> failed.add(new ResetRun.Failure(userId, error)));
      return Answer.ok(new ResetRun(run.reset().get(), List.copyOf(failed)));
    });
  }

  /** What one drain did: users reset, and users whose reset failed (now backing off) with the error. */
  private record Run(AtomicInteger reset, Map<String, String> failed) {
  }

  /**
   * Resets due users batch by batch until none is left to claim; answers what this drain did. A user whose
   * reset fails keeps its claim for a growing while, so the drain passes over it and ends.
   */
  private Future<Run> drain() {
    Run run = new Run(new AtomicInteger(), new ConcurrentHashMap<>());
    long started = System.nanoTime();
    return nextBatch(run).map(v -> {
      if (run.reset().get() > 0 || !run.failed().isEmpty()) {
        meters.resetRun(Duration.ofNanos(System.nanoTime() - started));
      }
      return run;
    });
  }

  private Future<Void> nextBatch(Run count) {
    if (stopped) {
      return Future.succeededFuture();
    }
    Instant now = Now.of(config.clock());
    return claims.claim(pool, settings.batchSize(), now, now.plus(settings.claimLease())).compose(users -> {
      if (users.isEmpty()) {
        return Future.succeededFuture();
      }
      return resetAll(users, count).compose(v -> {
        long pause = settings.batchPause().toMillis();
        return pause > 0 ? vertx.timer(pause).compose(t -> nextBatch(count)) : nextBatch(count);
      });
    });
  }

  /**
   * Resets the claimed users, {@code RESET_CONCURRENCY} at a time (the ledger writes the resets in flight together,
   * in one transaction per batch), then gives up the claims of those it reset with one statement.
   */
  private Future<Void> resetAll(List<String> users, Run count) {
    Queue<String> queue = new ArrayDeque<>(users);
    List<String> done = new ArrayList<>(users.size());
    Promise<Void> finished = Promise.promise();
    int lanes = Math.min(settings.concurrency(), users.size());
    AtomicInteger running = new AtomicInteger(lanes);
    for (int i = 0; i < lanes; i++) {
      lane(queue, count, done, running, finished);
    }
    return finished.future().compose(v -> claims.release(pool, done))
        .recover(e -> {
          log.warn("Releasing the claims of {} reset users failed (they pass when the lease runs out): {}",
              done.size(), e.toString());
          return Future.succeededFuture();
        });
  }

  private void lane(Queue<String> queue, Run count, List<String> done, AtomicInteger running,
                    Promise<Void> finished) {
    String userId = queue.poll();
    if (userId == null || stopped) {
      if (running.decrementAndGet() == 0) {
        finished.tryComplete();
      }
      return;
    }
    ledger.applyReset(userId)
        .compose(outcome -> {
          if (outcome.reset()) {
            count.reset().incrementAndGet();
          }
          done.add(userId);
          return Future.<Void>succeededFuture();
        }, failure -> failed(userId, failure, count))
        .onFailure(e -> log.warn("Recording the reset of {} failed: {}", userId, e.toString()))
        .onComplete(ar -> lane(queue, count, done, running, finished));
  }

  /**
   * A reset that failed (the ledger recorded it in {@code sync_failure}): the user's claim is held for a growing
   * while, RESET_SCAN_INTERVAL doubling up to a day, so the scanner carries on with everyone else.
   */
  private Future<Void> failed(String userId, Throwable failure, Run run) {
    String error = failure.getMessage() == null ? failure.toString() : failure.getMessage();
    run.failed().put(userId, error);
    Instant now = Now.of(config.clock());
    return claims.failures(pool, userId).compose(before -> {
      Duration wait = failureBackoff.delay(before + 1, ThreadLocalRandom.current()::nextDouble);
      log.warn("Reset of {} failed ({} in a row); next try in {}: {}", userId, before + 1, wait, error);
      return claims.failed(pool, userId, error, now.plus(wait));
    });
  }
}
