package io.creditledger.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Every request's id: the client's {@code X-Request-Id} when it is a sensible one (1-128 of letters, digits and
 * {@code . _ : -}), else a new one. It is echoed in the answer's {@code X-Request-Id}, and the access log and the
 * error bodies carry it.
 */
final class RequestId implements Handler<RoutingContext> {
  static final String HEADER = "X-Request-Id";
  /** Where the id is kept in the routing context (and the MDC key of the log lines written for the request). */
  static final String KEY = "requestId";
  private static final Pattern ACCEPTED = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  @Override
  public void handle(RoutingContext ctx) {
    String given = ctx.request().getHeader(HEADER);
    String id = given != null && ACCEPTED.matcher(given).matches() ? given : UUID.randomUUID().toString();
    ctx.put(KEY, id);
    ctx.response().putHeader(HEADER, id);
    ctx.next();
  }

  /** The request's id, or null before the handler ran (a request HTTP could not read). */
  static String of(RoutingContext ctx) {
    return ctx.get(KEY);
  }
}
