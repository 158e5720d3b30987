package io.creditledger.verticle;

import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Errors;
import io.creditledger.wire.Reply;
import io.creditledger.db.DbErrors;
import io.creditledger.db.Transactions;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Function;

/** Serves a ledger operation on an event-bus address, turning its outcome into a reply or a failed reply. */
public final class Endpoints {
  private static final Logger log = LoggerFactory.getLogger(Endpoints.class);

  private Endpoints() {
  }

  public static Future<Void> serve(EventBus bus, String address, Function<JsonObject, Future<Reply>> operation) {
    MessageConsumer<Object> consumer = bus.consumer(address, message -> {
      Future<Reply> outcome;
      try {
        if (!(message.body() instanceof JsonObject body)) {
          throw new LedgerException(ErrorCode.INVALID_BODY, "The request must be a JSON object");
        }
        outcome = operation.apply(body);
      } catch (RuntimeException e) {
        outcome = Future.failedFuture(e);
      }
      outcome.onComplete(reply -> {
        if (reply.succeeded()) {
          DeliveryOptions options = new DeliveryOptions()
              .addHeader(Reply.STATUS_HEADER, Integer.toString(reply.result().status()));
          if (reply.result().replayed()) {
            options.addHeader(Reply.REPLAYED_HEADER, "true");
          }
          message.reply(reply.result().body(), options);
        } else {
          fail(address, message, reply.cause());
        }
      });
    });
    return consumer.completion();
  }

  private static void fail(String address, Message<Object> message, Throwable cause) {
    LedgerException e = asLedgerException(address, cause);
    message.fail(e.status(), Errors.toJson(e).encode());
  }

  public static LedgerException asLedgerException(String where, Throwable cause) {
    if (cause instanceof LedgerException e) {
      return e;
    }
    if (cause instanceof Transactions.GaveUp gaveUp && !DbErrors.isUnavailable(gaveUp.getCause())) {
      log.warn("{}: {}", where, gaveUp.getMessage());
      return new LedgerException(ErrorCode.LEDGER_BUSY,
          "The ledger could not complete the operation after " + gaveUp.attempts() + " attempts; retry later");
    }
    if (DbErrors.isPoolBusy(cause)) {
      return new LedgerException(ErrorCode.LEDGER_BUSY, "The ledger is saturated; retry shortly");
    }
    if (DbErrors.isDataException(cause)) {
      // input validation should have caught it; the database's own range and encoding checks are the backstop
      log.warn("{}: value refused by the database: {}", where, cause.getMessage());
      return new LedgerException(ErrorCode.INVALID_VALUE, "A value is outside what the ledger can store");
    }
    if (DbErrors.isUnavailable(cause)) {
      log.warn("{}: database unavailable: {}", where, cause.toString());
      return new LedgerException(ErrorCode.DATABASE_UNAVAILABLE, "The database is unavailable; retry later");
    }
    log.error("{} failed", where, cause);
    return new LedgerException(ErrorCode.INTERNAL_ERROR, "The ledger failed to process the request");
  }
}
