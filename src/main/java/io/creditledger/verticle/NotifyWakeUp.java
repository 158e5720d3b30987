package io.creditledger.verticle;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * A relay's wake-up call: {@code LISTEN channel} on a connection of its own, calling {@code wake} on every
 * notification and on every (re)subscription, reconnecting each second after the server went away. Should LISTEN
 * fail, the relay lives on its poll.
 */
final class NotifyWakeUp {
  private static final Logger log = LoggerFactory.getLogger(NotifyWakeUp.class);

  private final PgSubscriber subscriber;
  private final String channel;

  private NotifyWakeUp(PgSubscriber subscriber, String channel) {
    this.subscriber = subscriber;
    this.channel = channel;
  }

  /** Listens on {@code channel}; completes once listening, or once it gave up and the poll every {@code poll} is left. */
  static Future<NotifyWakeUp> listen(Vertx vertx, PgConnectOptions options, String channel, Runnable wake,
                                     Duration poll) {
    PgSubscriber subscriber = PgSubscriber.subscriber(vertx, options).reconnectPolicy(retries -> 1000L);
    subscriber.channel(channel).subscribeHandler(v -> {
      // the connection's errors (the server going away) are the subscriber's to handle (it reconnects); without a
      // handler the client prints them to stderr
      if (subscriber.actualConnection() != null) {
        subscriber.actualConnection().exceptionHandler(e -> log.debug("LISTEN {}: {}", channel, e.toString()));
      }
      wake.run();
    }).handler(payload -> wake.run());
    NotifyWakeUp wakeUp = new NotifyWakeUp(subscriber, channel);
    return subscriber.connect()
        .recover(e -> {
          log.warn("LISTEN {} failed ({}); relying on the poll every {}", channel, e.toString(), poll);
          return Future.succeededFuture();
        })
        .map(wakeUp);
  }

  Future<Void> close() {
    return subscriber.close();
  }

  @Override
  public String toString() {
    return "LISTEN " + channel;
  }
}
