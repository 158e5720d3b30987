package io.creditledger.error;

import java.util.Locale;

/**
 * Every failure code the ledger answers, with the HTTP status it goes with. Callers see the code in
 * {@code {"error":{"code","message"}}}; the README's error table lists the same codes and statuses (a test compares
 * them).
 */
public enum ErrorCode {
  // the request itself
  INVALID_JSON(400),
  INVALID_BODY(400),
  MISSING_FIELD(400),
  INVALID_FIELD(400),
  UNKNOWN_FIELD(400),
  INVALID_VALUE(400),
  UNKNOWN_KEY_TYPE(400),
  STRIPE_CUSTOMER_REQUIRED(400),
  IDEMPOTENCY_KEY_MISMATCH(400),
  BAD_REQUEST(400),
  MALFORMED_REQUEST(400),
  // Stripe's webhook
  INVALID_SIGNATURE(400),
  STALE_TIMESTAMP(400),
  INVALID_PAYLOAD(400),
  // who is asking
  UNAUTHORIZED(401),
  FORBIDDEN(403),
  NOT_A_MEMBER(403),
  // credits
  DEBT_OUTSTANDING(402),
  INSUFFICIENT_CREDITS(402),
  ORG_CREDIT_LIMIT(402),
  // what is asked for
  NOT_FOUND(404),
  USER_NOT_FOUND(404),
  ORG_NOT_FOUND(404),
  MEMBER_NOT_FOUND(404),
  GRANT_NOT_FOUND(404),
  API_KEY_NOT_FOUND(404),
  OUTBOX_ROW_NOT_FOUND(404),
  WEBHOOK_ENDPOINT_NOT_FOUND(404),
  WEBHOOK_DELIVERY_NOT_FOUND(404),
  RECONCILE_NOT_RUN(404),
  HOLD_NOT_FOUND(404),
  METHOD_NOT_ALLOWED(405),
  // conflicts
  OPERATION_CONFLICT(409),
  ALREADY_REFERRED(409),
  REFERRAL_CYCLE(409),
  REFERRAL_LIMIT_REACHED(409),
  ALREADY_DELIVERED(409),
  HOLD_CLOSED(409),
  HOLD_EXPIRED(409),
  // HTTP limits
  BODY_TOO_LARGE(413),
  URI_TOO_LONG(414),
  UNSUPPORTED_MEDIA_TYPE(415),
  HEADERS_TOO_LARGE(431),
  // the ledger's own failures
  INTERNAL_ERROR(500),
  RESET_FAILED(500),
  // retry later
  DATABASE_UNAVAILABLE(503),
  LEDGER_BUSY(503),
  SHUTTING_DOWN(503),
  LEDGER_UNAVAILABLE(503),
  LEDGER_TIMEOUT(503),
  MIGRATIONS_PENDING(503),
  NOT_READY(503),
  WEBHOOK_NOT_CONFIGURED(503),
  VAULT_NOT_CONFIGURED(503),
  STRIPE_NOT_CONFIGURED(503),
  API_KEY_UNREADABLE(503);

  private final int status;

  ErrorCode(int status) {
    this.status = status;
  }

  public int status() {
    return status;
  }

  /** The snake_case code callers see. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The code named {@code wire}, or null for a code this build does not know. */
  public static ErrorCode fromWire(String wire) {
    for (ErrorCode c : values()) {
      if (c.wire().equals(wire)) {
        return c;
      }
    }
    return null;
  }
}
