package io.creditledger.reset;

import io.creditledger.api.Addresses;
import io.creditledger.api.Endpoints;
import io.creditledger.api.Input;
import io.creditledger.api.LedgerClient;
import io.creditledger.api.Reply;
import io.creditledger.config.LedgerConfig;
import io.creditledger.config.ResetSettings;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Schedules resets: every {@code RESET_SCAN_INTERVAL} (and when an operator asks through
 * {@code POST /v1/admin/resets/run}) it claims due users in batches and asks the ledger to reset each one
 * ({@code ledger.resets.apply}, one transaction per user), a few at a time with a pause between batches, until
 * no user is due. Several instances share the work through the claims.
 */
public final class ResetVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(ResetVerticle.class);

  private final Pool pool;
  private final LedgerConfig config;
  private final ResetSettings settings;
  private LedgerClient ledger;
  private long timer;
  private boolean scanning;
  private boolean stopped;

  public ResetVerticle(Pool pool, LedgerConfig config) {
    this.pool = pool;
    this.config = config;
    this.settings = config.resets();
  }

  @Override
  public Future<?> start() {
    ledger = new LedgerClient(vertx);
    long every = settings.scanInterval().toMillis();
    timer = vertx.setPeriodic(every, every, t -> scheduledScan());
    return Endpoints.serve(vertx.eventBus(), Addresses.RESETS_RUN, this::runNow);
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
      } else if (ar.result() > 0) {
        log.info("Reset {} users", ar.result());
      }
    });
  }

  private Future<Reply> runNow(JsonObject body) {
    Input.of(body, Set.of());
    return drain().map(n -> Reply.ok(new JsonObject().put("reset", n)));
  }

  /** Resets due users batch by batch until none is left; answers how many this drain reset. */
  private Future<Integer> drain() {
    AtomicInteger count = new AtomicInteger();
    return nextBatch(count).map(v -> count.get());
  }

  private Future<Void> nextBatch(AtomicInteger count) {
    if (stopped) {
      return Future.succeededFuture();
    }
    Instant now = Now.of(config.clock());
    return ResetClaims.claim(pool, settings.batchSize(), now, now.plus(settings.claimLease())).compose(users -> {
      if (users.isEmpty()) {
        return Future.succeededFuture();
      }
      return resetAll(users, count).compose(v -> {
        long pause = settings.batchPause().toMillis();
        return pause > 0 ? vertx.timer(pause).compose(t -> nextBatch(count)) : nextBatch(count);
      });
    });
  }

  /** Resets the claimed users, {@code RESET_CONCURRENCY} at a time. */
  private Future<Void> resetAll(List<String> users, AtomicInteger count) {
    Queue<String> queue = new ArrayDeque<>(users);
    Promise<Void> done = Promise.promise();
    AtomicInteger running = new AtomicInteger();
    int lanes = Math.min(settings.concurrency(), users.size());
    running.set(lanes);
    for (int i = 0; i < lanes; i++) {
      lane(queue, count, running, done);
    }
    return done.future();
  }

  private void lane(Queue<String> queue, AtomicInteger count, AtomicInteger running, Promise<Void> done) {
    String userId = queue.poll();
    if (userId == null || stopped) {
      if (running.decrementAndGet() == 0) {
        done.tryComplete();
      }
      return;
    }
    ledger.request(Addresses.RESET_APPLY, new JsonObject().put("userId", userId))
        .onSuccess(reply -> {
          if (reply.body().getBoolean("reset", false)) {
            count.incrementAndGet();
          }
        })
        .onFailure(e -> log.warn("Reset of {} failed; it stays due: {}", userId, e.toString()))
        .eventually(() -> ResetClaims.release(pool, userId))
        .onComplete(ar -> lane(queue, count, running, done));
  }
}
