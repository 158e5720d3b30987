package io.creditledger.error;

/**
 * A failure with a meaning for the caller: a code from the {@link ErrorCode} catalog (which fixes the HTTP status)
 * and a message. It travels over the event bus as a failed reply (failure code = status, message =
 * {@code {"code","message"}}) and becomes {@code {"error":{"code","message"}}} on HTTP.
 */
public final class LedgerException extends RuntimeException {
  private final ErrorCode error;

  public LedgerException(ErrorCode error, String message) {
    super(message, null, false, false);
    this.error = error;
  }

  public static LedgerException userNotFound(String userId) {
    return new LedgerException(ErrorCode.USER_NOT_FOUND, "No user \"" + userId + "\"");
  }

  public static LedgerException orgNotFound(String orgId) {
    return new LedgerException(ErrorCode.ORG_NOT_FOUND, "No org \"" + orgId + "\"");
  }

  public static LedgerException holdNotFound(String userId, String holdId) {
    return new LedgerException(ErrorCode.HOLD_NOT_FOUND, "User \"" + userId + "\" has no hold \"" + holdId + "\"");
  }

  public ErrorCode error() {
    return error;
  }

  public int status() {
    return error.status();
  }

  /** The snake_case code. */
  public String code() {
    return error.wire();
  }

  @Override
  public String toString() {
    return "LedgerException[" + status() + " " + code() + ": " + getMessage() + "]";
  }
}
