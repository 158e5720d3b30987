package io.creditledger.error;

import io.vertx.core.json.JsonObject;

/**
 * A failure with a meaning for the caller: an HTTP-like status, a snake_case code and a message. It travels
 * over the event bus as a failed reply (failure code = status, message = {@code {"code","message"}}) and
 * becomes {@code {"error":{"code","message"}}} on HTTP.
 */
public final class LedgerException extends RuntimeException {
  private final int status;
  private final String code;

  public LedgerException(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public static LedgerException badRequest(String code, String message) {
    return new LedgerException(400, code, message);
  }

  public static LedgerException notFound(String code, String message) {
    return new LedgerException(404, code, message);
  }

  public static LedgerException conflict(String code, String message) {
    return new LedgerException(409, code, message);
  }

  public static LedgerException paymentRequired(String code, String message) {
    return new LedgerException(402, code, message);
  }

  public static LedgerException userNotFound(String userId) {
    return notFound("user_not_found", "No user \"" + userId + "\"");
  }

  public static LedgerException unavailable(String code, String message) {
    return new LedgerException(503, code, message);
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public JsonObject toJson() {
    return new JsonObject().put("code", code).put("message", getMessage());
  }

  /** Rebuilds the exception from a failed reply's code and message; anything unreadable becomes a 500. */
  public static LedgerException fromReply(int failureCode, String message) {
    try {
      JsonObject body = new JsonObject(message);
      return new LedgerException(failureCode, body.getString("code", "internal_error"), body.getString("message", ""));
    } catch (RuntimeException e) {
      return new LedgerException(500, "internal_error", "The ledger failed to answer");
    }
  }

  @Override
  public String toString() {
    return "LedgerException[" + status + " " + code + ": " + getMessage() + "]";
  }
}
