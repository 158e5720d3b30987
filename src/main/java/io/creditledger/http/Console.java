package io.creditledger.http;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

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

  /** The console's files and their types. */
  private static final Map<String, String> FILES = Map.of(
      "index.html", "text/html; charset=utf-8",
      "console.js", "text/javascript; charset=utf-8",
      "console.css", "text/css; charset=utf-8",
      "favicon.svg", "image/svg+xml");

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

  /**
   * The files, read from the classpath once, by exact name ({@code /console/} is the page); any other name falls
   * through to the router's JSON 404. Nothing is looked up on disk, so no folder beside the jar can stand in for them.
   */
  static Handler<RoutingContext> files() {
    Map<String, Buffer> files = new HashMap<>();
    for (String name : FILES.keySet()) {
      try (InputStream in = Console.class.getClassLoader().getResourceAsStream("console/" + name)) {
        if (in == null) {
          throw new IllegalStateException("console/" + name + " is not on the classpath");
        }
        files.put(name, Buffer.buffer(in.readAllBytes()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return ctx -> {
      String name = ctx.normalizedPath().substring("/console/".length());
      name = name.isEmpty() ? "index.html" : name;
      Buffer file = files.get(name);
      if (file == null) {
        ctx.next();
        return;
      }
      ctx.response().putHeader("Content-Type", FILES.get(name)).end(file);
    };
  }
}
