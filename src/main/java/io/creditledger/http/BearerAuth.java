package io.creditledger.http;

import io.creditledger.auth.ApiTokens;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * The one place that checks bearer tokens. Every /v1 route passes here; routes marked admin also need the
 * admin token (the admin token works everywhere the service token does).
 */
final class BearerAuth implements Handler<RoutingContext> {
  static final String ROLE = "role";
  private static final String PREFIX = "bearer ";

  private final ApiTokens tokens;

  BearerAuth(ApiTokens tokens) {
    this.tokens = tokens;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    String presented = header != null && header.length() > PREFIX.length()
        && header.regionMatches(true, 0, PREFIX, 0, PREFIX.length()) ? header.substring(PREFIX.length()).trim() : null;
    ApiTokens.Role role = tokens.roleOf(presented);
    if (role == null) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      HttpJson.error(ctx, 401, "unauthorized",
          presented == null ? "Send Authorization: Bearer <token>" : "The bearer token is not valid");
      return;
    }
    ctx.put(ROLE, role);
    ctx.next();
  }

  /** Placed on admin routes after {@link BearerAuth}. */
  static void requireAdmin(RoutingContext ctx) {
    if (ctx.get(ROLE) != ApiTokens.Role.ADMIN) {
      HttpJson.error(ctx, 403, "forbidden", "This operation needs the admin token");
      return;
    }
    ctx.next();
  }
}
