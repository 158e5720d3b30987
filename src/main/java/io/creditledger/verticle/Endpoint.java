package io.creditledger.verticle;

import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Reply;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * One ledger address's operation: its command (sent by reference, or a JSON request read once by the shared parser),
 * the service call that runs it, and the writer of its typed answer as JSON. {@link Endpoints} serves it on the event
 * bus; {@link InProcessLedger} runs reads through it in the caller's event loop.
 *
 * @param type the address's command
 * @param parse reads the command from a JSON request
 * @param operation runs it
 * @param write writes the answer as JSON
 */
public record Endpoint<C extends Command, R>(String address, Class<C> type, Function<JsonObject, C> parse,
                                             Function<C, Future<Answer<R>>> operation,
                                             Function<R, JsonObject> write) {

  /** Runs one request; a failure is the operation's (or the parser's), not yet a {@link LedgerException}. */
  Future<Reply> answer(Object body) {
    Future<Answer<R>> outcome;
    try {
      C command;
      if (type.isInstance(body)) {
        command = type.cast(body);
      } else if (body instanceof JsonObject json) {
        command = parse.apply(json);
      } else {
        throw new LedgerException(ErrorCode.INVALID_BODY, "The request must be a JSON object");
      }
      outcome = operation.apply(command);
    } catch (RuntimeException e) {
      outcome = Future.failedFuture(e);
    }
    return outcome.map(answer -> new Reply(answer.created() ? 201 : 200, write.apply(answer.result()),
        answer.replayed()));
  }
}
