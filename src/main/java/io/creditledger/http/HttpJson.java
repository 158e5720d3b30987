package io.creditledger.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writes JSON answers and {@code {"error":{"code","message"}}} errors. */
final class HttpJson {
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

  static void error(RoutingContext ctx, int status, String code, String message) {
    send(ctx, status, new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)));
  }
}
