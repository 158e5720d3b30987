package io.creditledger.http;

import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writes JSON answers and {@code {"error":{"code","message","requestId"}}} errors. */
final class HttpJson {
  private static final String RETRY_AFTER_SECONDS = "1";
  /** Encoded once: every answer carries it. */
  private static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");

  private HttpJson() {
  }

  static void send(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON)
        .end(body.toBuffer());
  }

  /** Every 503 means "retry later", so it says when. */
  static void error(RoutingContext ctx, ErrorCode code, String message) {
    if (code.status() == 503 && !ctx.response().ended()) {
      ctx.response().putHeader("Retry-After", RETRY_AFTER_SECONDS);
    }
    JsonObject error = new JsonObject().put("code", code.wire()).put("message", message);
    String requestId = RequestId.of(ctx);
    if (requestId != null) {
      error.put("requestId", requestId);
    }
    send(ctx, code.status(), new JsonObject().put("error", error));
  }

  static void error(RoutingContext ctx, LedgerException e) {
    error(ctx, e.error(), e.getMessage());
  }
}
