package io.creditledger.wire;

import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.vertx.core.json.JsonObject;

/** A {@link LedgerException} on the wire: {@code {"code","message"}}, the body of a failed event-bus reply. */
public final class Errors {
  private Errors() {
  }

  public static JsonObject toJson(LedgerException e) {
    return new JsonObject().put("code", e.code()).put("message", e.getMessage());
  }

  /** Rebuilds the exception from a failed reply's message; anything unreadable or unknown is an internal error. */
  public static LedgerException fromReply(String message) {
    try {
      JsonObject body = new JsonObject(message);
      ErrorCode code = ErrorCode.fromWire(body.getString("code"));
      return code == null ? new LedgerException(ErrorCode.INTERNAL_ERROR, "The ledger failed to answer: " + message)
          : new LedgerException(code, body.getString("message", ""));
    } catch (RuntimeException e) {
      return new LedgerException(ErrorCode.INTERNAL_ERROR, "The ledger failed to answer");
    }
  }
}
