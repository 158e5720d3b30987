package io.creditledger.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writes JSON answers and {@code {"error":{"code","message"}}} errors. */
final class HttpJson {
  private static final String RETRY_AFTER_SECONDS = "1";

  private HttpJson() {
  }

  static void send(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(body.toBuffer());
  }

  /** Every 503 means "retry later", so it says when. */
  static void error(RoutingContext ctx, int status, String code, String message) {
    if (status == 503 && !ctx.response().ended()) {
      ctx.response().putHeader("Retry-After", RETRY_AFTER_SECONDS);
    }
    send(ctx, status, new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)));
  }
}
