package io.creditledger.verticle;

import io.creditledger.config.LedgerConfig;
import io.creditledger.config.StripeSettings;
import io.creditledger.domain.MeterWindow;
import io.creditledger.domain.OutboxAction;
import io.creditledger.retry.Backoff;
import io.creditledger.retry.RatePacer;
import io.creditledger.metrics.LedgerMeters;
import io.creditledger.service.AutoTopUpService;
import io.creditledger.service.OutboxAdminService;
import io.creditledger.store.OutboxStore;
import io.creditledger.stripe.OutboxRow;
import io.creditledger.stripe.StripeGateway;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Sends the Stripe outbox. It wakes when PostgreSQL notifies that outbox rows committed (and on a slow poll,
 * in case a notification was missed), claims due rows with a lease, sends them at a bounded pace on worker
 * threads, claiming more before the rows in hand run out, and records each outcome: delivered (with the Stripe
 * id on the grant; the rows delivered while one mark runs are marked together by the next, with one
 * statement), retry later (exponential backoff with jitter, Retry-After honoured and pausing the whole relay),
 * or dead after the attempt budget. Several instances, in one process or many, can run against one database.
 */
public final class StripeRelayVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(StripeRelayVerticle.class);
  private static final int PRUNE_BATCH = 1000;
  /** Stripe keeps an idempotency key for 24 hours; past 23 a create is looked up before it is sent again. */
  static final Duration IDEMPOTENCY_WINDOW = Duration.ofHours(23);

  private final Pool pool;
  private final LedgerConfig config;
  private final StripeSettings settings;
  private final PgConnectOptions connectOptions;
  private final OutboxStore store;
  private final String owner = "relay-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);

  private final StripeGateway gateway;
  private final AutoTopUpService topUps;
  private final OutboxAdminService outbox;
  private final LedgerMeters meters;
  private WorkerExecutor worker;
  private NotifyWakeUp wakeUp;
  private RatePacer pacer;
  private Backoff backoff;
  private final List<Long> timers = new ArrayList<>();
  private boolean stopped;
  private Instant pausedUntil = Instant.MIN;
  private boolean pauseTimer;
  /** The rows claimed and not done with yet (sent and the outcome recorded, or handed back). */
  private final Set<Long> inHand = new HashSet<>();
  private boolean claiming;
  /** Whether due rows may be waiting: set by every wake, cleared by a claim that found fewer than it asked for. */
  private boolean mayHaveMore;
  /** Delivered rows waiting to be marked, and whether a mark is running. */
  private List<Unmarked> unmarked = new ArrayList<>();
  private boolean marking;

  public StripeRelayVerticle(Pool pool, LedgerConfig config, PgConnectOptions connectOptions, OutboxStore store,
                             StripeGateway gateway, AutoTopUpService topUps, OutboxAdminService outbox,
                             LedgerMeters meters) {
    this.meters = meters;
    this.pool = pool;
    this.gateway = gateway;
    this.topUps = topUps;
    this.outbox = outbox;
    this.store = store;
    this.config = config;
    this.settings = config.stripe();
    this.connectOptions = connectOptions;
  }

  @Override
  public Future<?> start() {
    // twice the calls the gateway lets in flight: while one thread waits for Stripe's answer, another builds the
    // next request or reads the last answer, so a connection never waits for that work
    worker = vertx.createSharedWorkerExecutor("stripe-relay", settings.concurrency() * 2);
    pacer = new RatePacer(settings.maxRequestsPerSecond());
    backoff = new Backoff(settings.backoffBase(), settings.backoffMax());
    timers.add(vertx.setPeriodic(settings.pollInterval().toMillis(), t -> wake()));
    long pruneEvery = Math.min(settings.retention().toMillis(), Duration.ofMinutes(10).toMillis());
    timers.add(vertx.setPeriodic(pruneEvery, t -> prune()));
    return NotifyWakeUp.listen(vertx, connectOptions, OutboxStore.WAKE_CHANNEL, this::wake, settings.pollInterval())
        .onSuccess(listening -> {
          wakeUp = listening;
          log.info("Stripe relay {} sending to {} at up to {} requests/s", owner, settings.apiBase(),
              settings.maxRequestsPerSecond());
          wake();
        });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    timers.forEach(vertx::cancelTimer);
    return (wakeUp == null ? Future.succeededFuture() : wakeUp.close()).eventually(() -> worker.close());
  }

  private Instant now() {
    return Now.of(config.clock());
  }

  /** Rows may be due: a notification, the poll, the end of a pause. */
  private void wake() {
    mayHaveMore = true;
    fill();
  }

  /**
   * Claims more rows when due rows may be waiting and at most half a batch (four calls per concurrency slot) is
   * in hand, so the slots never wait for a claim and no row waits long under its lease.
   */
  private void fill() {
    int batch = settings.concurrency() * 4;
    if (stopped || claiming || !mayHaveMore || inHand.size() > batch / 2) {
      return;
    }
    Instant now = now();
    if (now.isBefore(pausedUntil)) {
      if (!pauseTimer) {
        pauseTimer = true;
        vertx.setTimer(Math.max(1, Duration.between(now, pausedUntil).toMillis()), t -> {
          pauseTimer = false;
          wake();
        });
      }
      return;
    }
    int limit = batch - inHand.size();
    claiming = true;
    mayHaveMore = false;
    store.claim(pool, owner, limit, now.plus(settings.lease()), now).onComplete(claimed -> {
      claiming = false;
      if (claimed.failed()) {
        log.warn("Claiming outbox rows failed: {}", claimed.cause().toString());
        return; // the next wake tries again, at the latest the poll's
      }
      List<OutboxRow> rows = claimed.result();
      mayHaveMore |= rows.size() == limit;
      for (OutboxRow row : rows) {
        if (!inHand.add(row.outboxId())) {
          continue; // its lease ran out while it waited here: it is being sent already
        }
        long waitMs = pacer.reserve(System.nanoTime()) / 1_000_000;
        (waitMs <= 0 ? send(row) : vertx.timer(waitMs).compose(v -> send(row))).onComplete(done -> {
          if (done.failed()) {
            log.warn("Outbox row {}: recording the outcome failed: {}", row.outboxId(), done.cause().toString());
          }
          inHand.remove(row.outboxId());
          fill();
        });
      }
      fill(); // a wake while the claim ran
    });
  }

  private record Outcome(String stripeId, StripeGateway.Failure failure) {
  }

  private Future<Void> send(OutboxRow row) {
    if (now().isBefore(pausedUntil)) {
      return store.release(pool, row, owner, pausedUntil, now());
    }
    String outOfWindow = row.action() != OutboxAction.REPORT_USAGE ? null
        : MeterWindow.refusal(Instant.ofEpochSecond(row.payload().getLong("timestamp")), now());
    if (outOfWindow != null) {
      return failed(row, new StripeGateway.Failure(false, null, outOfWindow));
    }
    if (row.action() == OutboxAction.CREATE_PAYMENT_INTENT) {
      return charge(row);
    }
    boolean pastKeyWindow = row.action() == OutboxAction.CREATE_CREDIT_GRANT && row.firstAttemptAt() != null
        && row.firstAttemptAt().isBefore(now().minus(IDEMPOTENCY_WINDOW));
    return worker.executeBlocking(() -> {
      try {
        if (pastKeyWindow) {
          // Stripe forgets idempotency keys after 24 hours: an earlier attempt may have made the grant already
          Optional<String> made = gateway.findCreated(row);
          if (made.isPresent()) {
            log.info("Outbox row {} adopts Stripe grant {} made by an attempt more than {} ago", row.outboxId(),
                made.get(), IDEMPOTENCY_WINDOW);
            return new Outcome(made.get(), null);
          }
        }
        return new Outcome(gateway.send(row), null);
      } catch (Exception e) {
        return new Outcome(null, StripeGateway.classify(e));
      }
    }, false).compose(outcome -> outcome.failure() == null
        ? delivered(row, outcome.stripeId())
        : failed(row, outcome.failure()));
  }

  private record Charged(StripeGateway.PaymentIntentAnswer answer, StripeGateway.Failure failure) {
  }

  /**
   * An auto top-up: the PaymentIntent is created and confirmed off-session. Succeeded, the purchase is granted
   * and the top-up settled before the row is marked; processing, the row is done and Stripe's webhook settles it;
   * any other state is a failure for good.
   */
  private Future<Void> charge(OutboxRow row) {
    return worker.executeBlocking(() -> {
      try {
        return new Charged(gateway.createPaymentIntent(row), null);
      } catch (Exception e) {
        return new Charged(null, StripeGateway.classify(e));
      }
    }, false).compose(charged -> {
      if (charged.failure() != null) {
        return failed(row, charged.failure());
      }
      String intent = charged.answer().id();
      return switch (charged.answer().status()) {
        case "succeeded" -> topUps.paid(row.userId(), row.idempotencyKey(), row.topUpCredits(),
            row.payload().getLong("amount"), intent).compose(v -> delivered(row, intent));
        case "processing" -> delivered(row, intent);
        default -> failed(row, new StripeGateway.Failure(false, null,
            "PaymentIntent " + intent + " is " + charged.answer().status()));
      };
    });
  }

  private record Unmarked(OutboxStore.Delivery delivery, Promise<Void> marked) {
  }

  /** Completes when the row is marked delivered: together with the rows delivered while the last mark ran. */
  private Future<Void> delivered(OutboxRow row, String stripeId) {
    meters.stripeRequest("delivered");
    Promise<Void> marked = Promise.promise();
    unmarked.add(new Unmarked(new OutboxStore.Delivery(row, stripeId), marked));
    markDelivered();
    return marked.future();
  }

  private void markDelivered() {
    if (marking || unmarked.isEmpty()) {
      return;
    }
    List<Unmarked> batch = unmarked;
    unmarked = new ArrayList<>();
    marking = true;
    mark(batch).onComplete(done -> {
      marking = false;
      markDelivered();
    });
  }

  /**
   * Marks the batch with one statement; should that fail, each row on its own, so that one row that cannot be
   * marked holds up no other. A row left unmarked is sent again when its lease runs out, under its key.
   */
  private Future<Void> mark(List<Unmarked> batch) {
    return store.delivered(pool, batch.stream().map(Unmarked::delivery).toList(), now()).transform(ar -> {
      if (ar.succeeded() || batch.size() == 1) {
        batch.forEach(u -> u.marked().handle(ar));
        return Future.succeededFuture();
      }
      log.warn("Marking {} outbox rows delivered failed ({}); marking them one by one", batch.size(),
          ar.cause().toString());
      return Future.join(batch.stream().map(u -> mark(List.of(u))).toList()).mapEmpty();
    });
  }

  private Future<Void> failed(OutboxRow row, StripeGateway.Failure failure) {
    Instant now = now();
    if (failure.retryAfter() != null) {
      Instant until = now.plus(failure.retryAfter());
      if (until.isAfter(pausedUntil)) {
        pausedUntil = until;
      }
    }
    int attempts = row.attempts() + 1;
    boolean dead = !failure.retryable() || attempts >= settings.maxAttempts();
    meters.stripeRequest(dead ? "dead" : "retry");
    Duration wait = backoff.delay(attempts, ThreadLocalRandom.current()::nextDouble, failure.retryAfter());
    if (dead) {
      log.error("Outbox row {} ({} of grant {}) is dead after {} attempts: {}", row.outboxId(), row.action(),
          row.grantOperationId(), attempts, failure.message());
      if (row.action() == OutboxAction.CREATE_PAYMENT_INTENT) {
        // the top-up failed for good: auto top-up goes off before the row is recorded dead
        return topUps.failed(row.userId(), row.idempotencyKey(), row.topUpCredits(), failure.message())
            .compose(v -> outbox.failed(row, owner, failure.message(), true, now.plus(wait), now));
      }
    } else {
      log.warn("Outbox row {} ({} of grant {}) failed, attempt {}, retry in {}: {}", row.outboxId(), row.action(),
          row.grantOperationId(), attempts, wait, failure.message());
    }
    return outbox.failed(row, owner, failure.message(), dead, now.plus(wait), now);
  }

  private void prune() {
    store.prune(pool, now().minus(settings.retention()), PRUNE_BATCH)
        .onSuccess(n -> {
          if (n > 0) {
            log.info("Pruned {} delivered outbox rows older than {}", n, settings.retention());
          }
        })
        .onFailure(e -> log.warn("Pruning the outbox failed: {}", e.toString()));
  }
}
