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
 * batch), {@code RESET_CONCURRENCY} at a time, claiming the next batch before the lanes run dry, until no user is
 * due. Several instances share the work through the claims.
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
   * Resets due users until none is left to claim; answers what this drain did. A user whose reset fails keeps its
   * claim for a growing while, so the drain passes over it and ends.
   */
  private Future<Run> drain() {
    long started = System.nanoTime();
    Drain drain = new Drain();
    return drain.start().map(v -> {
      if (drain.run.reset().get() > 0 || !drain.run.failed().isEmpty()) {
        meters.resetRun(Duration.ofNanos(System.nanoTime() - started));
      }
      return drain.run;
    });
  }

  /**
   * One drain of the backlog: claimed users wait in a queue and {@code RESET_CONCURRENCY} lanes send their resets
   * to the ledger, one at a time each. The next batch is claimed while the lanes still have a round of users ahead
   * of them, so they never stand idle between batches; consecutive claims are at least {@code RESET_BATCH_PAUSE}
   * apart, which caps a drain at {@code RESET_BATCH_SIZE} users per pause. The claims of users reset are given up
   * {@code RESET_BATCH_SIZE} at a time, and the rest when the drain ends. Runs on this verticle's event loop.
   */
  private final class Drain {
    final Run run = new Run(new AtomicInteger(), new ConcurrentHashMap<>());
    final Promise<Void> finished = Promise.promise();
    final Queue<String> queue = new ArrayDeque<>();
    /** users reset whose claims are still to be given up */
    List<String> done = new ArrayList<>();
    Future<Void> releasing = Future.succeededFuture();
    int lanes;
    boolean claiming;
    /** the pause after the last claim has not run out yet */
    boolean resting;
    /** the last claim found nobody left to claim, or failed */
    boolean exhausted;
    Throwable claimFailure;

    Future<Void> start() {
      claim();
      return finished.future();
    }

    /** Claims the next batch when the queue is down to less than a round and the pause has run out. */
    void claimIfLow() {
      if (!claiming && !resting && !exhausted && !stopped && queue.size() < settings.concurrency()) {
        claim();
      }
    }

    void claim() {
      claiming = true;
      Instant now = Now.of(config.clock());
      claims.claim(pool, settings.batchSize(), now, now.plus(settings.claimLease())).onComplete(ar -> {
        claiming = false;
        if (ar.failed()) {
          claimFailure = ar.cause();
          exhausted = true;
        } else if (ar.result().isEmpty()) {
          exhausted = true;
        } else {
          queue.addAll(ar.result());
          long pause = settings.batchPause().toMillis();
          if (pause > 0) {
            resting = true;
            vertx.setTimer(pause, t -> {
              resting = false;
              claimIfLow();
            });
          }
          fill();
        }
        finishIfDone();
      });
    }

    /** Starts lanes until {@code RESET_CONCURRENCY} run or the queue is empty. */
    void fill() {
      while (lanes < settings.concurrency() && !queue.isEmpty() && !stopped) {
        lanes++;
        reset(queue.poll());
      }
      claimIfLow();
    }

    void reset(String userId) {
      ledger.applyReset(userId)
          .compose(outcome -> {
            if (outcome.reset()) {
              run.reset().incrementAndGet();
            }
            done.add(userId);
            if (done.size() >= settings.batchSize()) {
              release();
            }
            return Future.<Void>succeededFuture();
          }, failure -> failed(userId, failure, run))
          .onFailure(e -> log.warn("Recording the reset of {} failed: {}", userId, e.toString()))
          .onComplete(ar -> {
            lanes--;
            fill();
            finishIfDone();
          });
    }

    /** Gives up the claims of the users reset so far (after any release still running). */
    void release() {
      List<String> users = done;
      done = new ArrayList<>();
      releasing = releasing.compose(v -> claims.release(pool, users)).recover(e -> {
        log.warn("Releasing the claims of {} reset users failed (they pass when the lease runs out): {}",
            users.size(), e.toString());
        return Future.succeededFuture();
      });
    }

    /** Ends the drain once no reset is in flight and nothing is left to send or to claim. */
    void finishIfDone() {
      if (lanes > 0 || claiming || !(stopped || (exhausted && queue.isEmpty()))) {
        return;
      }
      release();
      releasing.onComplete(v -> {
        if (claimFailure != null) {
          finished.tryFail(claimFailure);
        } else {
          finished.tryComplete();
        }
      });
    }
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
