package io.creditledger.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One line per request: method, path, status, latency. Never bodies, query strings, headers or tokens. */
final class AccessLog implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger("http.access");

  @Override
  public void handle(RoutingContext ctx) {
    long start = System.nanoTime();
    ctx.addEndHandler(done -> {
      long micros = (System.nanoTime() - start) / 1_000;
      log.info("{} {} {} {}.{}ms", ctx.request().method(), printable(ctx.request().path()),
          ctx.response().getStatusCode(), micros / 1000, String.format("%03d", micros % 1000));
    });
    ctx.next();
  }

  /** Paths come from clients: keep control characters out of the log. */
  private static String printable(String path) {
    if (path == null) {
      return "-";
    }
    String cut = path.length() > 200 ? path.substring(0, 200) + "..." : path;
    return cut.replaceAll("[^\\x21-\\x7e]", "?");
  }
}
