package io.creditledger.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The admin console at {@code /console/}: an HTML page, a script and a style sheet from the classpath's
 * {@code console} folder. The files are open (they hold no data and no secret); every call the page makes to
 * {@code /v1} carries the admin token the operator signs in with, and is checked there like any other call.
 */
final class Console {
  /**
   * The page's own files only: no inline script or style, no other origin, no framing, no form posting elsewhere;
   * nothing cached (a new version of the console is picked up at once).
   */
  static final Handler<RoutingContext> HEADERS = ctx -> {
    ctx.response()
        .putHeader("Content-Security-Policy",
            "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("Cache-Control", "no-store");
    ctx.next();
  };

  private Console() {
  }

  /**
   * {@code /console} to {@code /console/}, so that the page's relative links resolve under it. (A route's path
   * matches with or without a trailing slash: {@code /console/} goes on to the files.)
   */
  static void redirect(RoutingContext ctx) {
    if (ctx.normalizedPath().endsWith("/")) {
      ctx.next();
    } else {
      ctx.redirect("/console/");
    }
  }

  /** The files; a name that is not one of them falls through to the router's JSON 404. */
  static StaticHandler files() {
    return StaticHandler.create("console")
        .setCachingEnabled(false)
        .setEnableRangeSupport(false)
        .setDefaultContentEncoding("UTF-8");
  }
}
