package io.creditledger.verticle;

import com.standardwebhooks.Webhook;
import io.creditledger.api.Addresses;
import io.creditledger.config.EventSettings;
import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.Accounts;
import io.creditledger.retry.Backoff;
import io.creditledger.store.EventStore;
import io.creditledger.time.Now;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Hands committed events on. It wakes when PostgreSQL notifies that events committed (and on a poll, for retries
 * and missed notifications), dispatches the undispatched events in order (each is published on the event bus at
 * {@link Addresses#EVENTS} and fanned out to one delivery per subscribed webhook endpoint), then sends due
 * deliveries as Standard Webhooks: {@code webhook-id} (the event's id, the same on every attempt),
 * {@code webhook-timestamp} and {@code webhook-signature}, over the body {@code {type, timestamp, data}}. A 2xx
 * answer delivers; anything else is retried with exponential backoff until {@code WEBHOOK_MAX_ATTEMPTS}, then the
 * delivery is dead. Several instances can run against one database: each dispatches and sends different rows.
 */
public final class EventRelayVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(EventRelayVerticle.class);
  private static final int DISPATCH_BATCH = 500;
  private static final int PRUNE_BATCH = 1000;
  private static final int ERROR_MAX = 500;

  private final Pool pool;
  private final LedgerConfig config;
  private final EventSettings settings;
  private final PgConnectOptions connectOptions;
  private final EventStore store;
  private final List<Long> timers = new ArrayList<>();
  private NotifyWakeUp wakeUp;
  private HttpClient http;
  private Backoff backoff;
  private boolean stopped;
  private boolean dispatching;
  private boolean dispatchAgain;
  private boolean claiming;
  private int inFlight;

  public EventRelayVerticle(Pool pool, LedgerConfig config, PgConnectOptions connectOptions, EventStore store) {
    this.pool = pool;
    this.config = config;
    this.settings = config.events();
    this.connectOptions = connectOptions;
    this.store = store;
  }

  @Override
  public Future<?> start() {
    backoff = new Backoff(settings.backoffBase(), settings.backoffMax());
    int timeoutMs = (int) settings.timeout().toMillis();
    http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(timeoutMs)
        .setIdleTimeout(60).setKeepAliveTimeout(60), new PoolOptions().setHttp1MaxSize(settings.concurrency()));
    timers.add(vertx.setPeriodic(settings.pollInterval().toMillis(), t -> wake()));
    timers.add(vertx.setPeriodic(settings.pruneInterval().toMillis(), t -> prune()));
    return NotifyWakeUp.listen(vertx, connectOptions, EventStore.WAKE_CHANNEL, this::wake, settings.pollInterval())
        .onSuccess(listening -> {
          wakeUp = listening;
          wake();
        });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    timers.forEach(vertx::cancelTimer);
    return (wakeUp == null ? Future.succeededFuture() : wakeUp.close()).eventually(() -> http.close());
  }

  private Instant now() {
    return Now.of(config.clock());
  }

  private void wake() {
    dispatch();
    send();
  }

  /** Dispatches until no undispatched event is left, one batch at a time; then sends what that made due. */
  private void dispatch() {
    if (stopped) {
      return;
    }
    if (dispatching) {
      dispatchAgain = true;
      return;
    }
    dispatching = true;
    dispatchAgain = false;
    store.dispatch(pool, DISPATCH_BATCH, now()).onComplete(done -> {
      dispatching = false;
      if (done.failed()) {
        log.warn("Dispatching events failed: {}", done.cause().toString());
        return; // the next wake tries again, at the latest the poll's
      }
      for (EventStore.StoredEvent event : done.result()) {
        vertx.eventBus().publish(Addresses.EVENTS, busMessage(event));
      }
      if (done.result().size() == DISPATCH_BATCH || dispatchAgain) {
        dispatch();
      }
      send();
    });
  }

  /** Claims due deliveries while calls are free, and sends them. */
  private void send() {
    int free = settings.concurrency() - inFlight;
    if (stopped || claiming || free <= 0) {
      return;
    }
    claiming = true;
    Instant now = now();
    store.claim(pool, free, now.plus(settings.lease()), now).onComplete(claimed -> {
      claiming = false;
      if (claimed.failed()) {
        log.warn("Claiming webhook deliveries failed: {}", claimed.cause().toString());
        return;
      }
      List<EventStore.Claimed> rows = claimed.result();
      for (EventStore.Claimed row : rows) {
        inFlight++;
        deliver(row).onComplete(done -> {
          if (done.failed()) {
            log.warn("Webhook delivery {}: recording the outcome failed: {}", row.deliveryId(),
                done.cause().toString());
          }
          inFlight--;
          send();
        });
      }
      if (rows.size() == free) {
        send();
      }
    });
  }

  private Future<Void> deliver(EventStore.Claimed row) {
    if (row.url() == null) {
      return failed(row, "the endpoint was deleted", true);
    }
    EventStore.StoredEvent event = row.event();
    String body = new JsonObject().put("type", event.type().wire()).put("timestamp", event.createdAt().toString())
        .mergeIn(Json.account(event.userId())).put("data", event.data()).encode();
    long timestamp = now().getEpochSecond();
    String signature;
    try {
      signature = new Webhook(row.secret()).sign(event.eventId(), timestamp, body);
    } catch (Exception e) {
      return failed(row, "signing failed: " + e.getMessage(), true);
    }
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(row.url())
        .setTimeout(settings.timeout().toMillis())
        .putHeader("content-type", "application/json")
        .putHeader("webhook-id", event.eventId())
        .putHeader("webhook-timestamp", Long.toString(timestamp))
        .putHeader("webhook-signature", signature);
    return http.request(request)
        .compose(req -> req.send(Buffer.buffer(body)))
        .compose(response -> response.body().map(ignored -> response.statusCode()))
        .transform(ar -> {
          if (ar.succeeded() && ar.result() / 100 == 2) {
            return store.delivered(pool, row.deliveryId(), now());
          }
          String error = ar.succeeded() ? "HTTP " + ar.result() : String.valueOf(ar.cause());
          return failed(row, error, false);
        });
  }

  /** Deletes events older than EVENTS_RETENTION that nothing is owed for any more, a batch at a time. */
  private void prune() {
    store.prune(pool, now().minus(settings.retention()), PRUNE_BATCH).onComplete(done -> {
      if (done.failed()) {
        log.warn("Pruning events failed: {}", done.cause().toString());
      } else if (done.result() > 0) {
        log.info("Pruned {} events older than {}", done.result(), settings.retention());
      }
    });
  }

  /**
   * An event as published on the bus: {@code eventId, type, userId} (a user's events; null for an org's),
   * {@code accountType, accountId, timestamp, data}.
   */
  static JsonObject busMessage(EventStore.StoredEvent event) {
    return new JsonObject().put("eventId", event.eventId()).put("type", event.type().wire())
        .put("userId", Accounts.isOrg(event.userId()) ? null : event.userId())
        .mergeIn(Json.account(event.userId()))
        .put("timestamp", event.createdAt().toString()).put("data", event.data());
  }

  private Future<Void> failed(EventStore.Claimed row, String error, boolean permanent) {
    int attempts = row.attempts() + 1;
    boolean dead = permanent || attempts >= settings.maxAttempts();
    Duration wait = backoff.delay(attempts, ThreadLocalRandom.current()::nextDouble);
    String reason = error.length() > ERROR_MAX ? error.substring(0, ERROR_MAX) : error;
    if (dead) {
      log.error("Webhook delivery {} of event {} to endpoint {} is dead after {} attempts: {}", row.deliveryId(),
          row.event().eventId(), row.endpointId(), attempts, reason);
    } else {
      log.warn("Webhook delivery {} of event {} to endpoint {} failed, attempt {}, retry in {}: {}", row.deliveryId(),
          row.event().eventId(), row.endpointId(), attempts, wait, reason);
    }
    Instant now = now();
    return store.failed(pool, row.deliveryId(), reason, dead, now.plus(wait), now);
  }
}
