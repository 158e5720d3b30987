package io.creditledger.verticle;

import io.creditledger.db.DbErrors;
import io.creditledger.db.Transactions;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Errors;
import io.creditledger.wire.LocalCodec;
import io.creditledger.wire.Reply;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Function;

/**
 * Serves ledger operations on event-bus addresses: the request is the operation's command (sent by reference by the
 * HTTP verticle and the typed client) or a JSON object, read once by the shared parser; the operation's typed
 * answer is written as JSON by the wire package, with headers saying its status and whether it was replayed.
 */
public final class Endpoints {
  private static final Logger log = LoggerFactory.getLogger(Endpoints.class);

  private final EventBus bus;

  public Endpoints(EventBus bus) {
    this.bus = bus;
    LocalCodec.register(bus);
  }

  /**
   * @param type the address's command
   * @param parse reads the command from a JSON request
   * @param operation runs it
   * @param write writes the answer as JSON
   */
  public <C extends Command, R> Future<Void> serve(String address, Class<C> type, Function<JsonObject, C> parse,
                                                   Function<C, Future<Answer<R>>> operation,
                                                   Function<R, JsonObject> write) {
    return serve(new Endpoint<>(address, type, parse, operation, write));
  }

  public Future<Void> serve(Endpoint<?, ?> endpoint) {
    MessageConsumer<Object> consumer = bus.consumer(endpoint.address(), message ->
        endpoint.answer(message.body()).onComplete(reply -> {
          if (reply.succeeded()) {
            // the answer is built for this reply alone: passed by reference, not copied as the JSON codec would
            DeliveryOptions options = new DeliveryOptions().setCodecName(LocalCodec.NAME)
                .addHeader(Reply.STATUS_HEADER, Integer.toString(reply.result().status()));
            if (reply.result().replayed()) {
              options.addHeader(Reply.REPLAYED_HEADER, "true");
            }
            message.reply(reply.result().body(), options);
          } else {
            fail(endpoint.address(), message, reply.cause());
          }
        }));
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
