package io.creditledger.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One line per request: method, path, status, latency, request id. Never bodies, query strings, headers or tokens. The line is
 * built by hand (no format string, no regular expression): it is written for every request.
 */
final class AccessLog implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger("http.access");
  private static final int MAX_PATH = 200;

  @Override
  public void handle(RoutingContext ctx) {
    if (log.isInfoEnabled()) {
      long start = System.nanoTime();
      ctx.addEndHandler(done -> {
        // the id goes into the line, and into the MDC for JSON logs (the event loop runs one request's end at a time)
        MDC.put(RequestId.KEY, RequestId.of(ctx));
        try {
          log.info(line(ctx, System.nanoTime() - start));
        } finally {
          MDC.remove(RequestId.KEY);
        }
      });
    }
    ctx.next();
  }

  /** {@code GET /v1/users/alice/balance 200 1.234ms rid=<request id>} */
  static String line(RoutingContext ctx, long nanos) {
    long micros = nanos / 1_000;
    long fraction = micros % 1000;
    StringBuilder line = new StringBuilder(64).append(ctx.request().method().name()).append(' ');
    printable(ctx.request().path(), line);
    line.append(' ').append(ctx.response().getStatusCode()).append(' ').append(micros / 1000).append('.');
    if (fraction < 100) {
      line.append(fraction < 10 ? "00" : "0");
    }
    line.append(fraction).append("ms");
    String id = RequestId.of(ctx);
    return id == null ? line.toString() : line.append(" rid=").append(id).toString();
  }

  /** Paths come from clients: control characters, spaces and non-ASCII become '?', and long paths are cut. */
  private static void printable(String path, StringBuilder into) {
    if (path == null) {
      into.append('-');
      return;
    }
    int end = Math.min(path.length(), MAX_PATH);
    for (int i = 0; i < end; i++) {
      char c = path.charAt(i);
      into.append(c >= 0x21 && c <= 0x7e ? c : '?');
    }
    if (path.length() > MAX_PATH) {
      into.append("...");
    }
  }
}
