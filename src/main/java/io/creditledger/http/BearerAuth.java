package io.creditledger.http;

import io.creditledger.auth.ApiTokens;
import io.creditledger.error.ErrorCode;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * The one place that checks bearer tokens. Every /v1 route but Stripe's webhook passes here; admin operations
 * (everything under /v1/admin/, and revokes) also need the admin token, which works everywhere the service
 * token does. Admin grants, told apart by their body, are checked where the body is read.
 */
final class BearerAuth implements Handler<RoutingContext> {
  static final String ROLE = "role";
  private static final java.util.regex.Pattern REVOKE = java.util.regex.Pattern.compile("/v1/grants/[^/]+/revoke/?");
  private static final String PREFIX = "bearer ";

  private final ApiTokens tokens;

  BearerAuth(ApiTokens tokens) {
    this.tokens = tokens;
  }

  /** The bearer token the request presents (any case of the scheme), or null. */
  static String presented(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    return header != null && header.length() > PREFIX.length()
        && header.regionMatches(true, 0, PREFIX, 0, PREFIX.length()) ? header.substring(PREFIX.length()).trim() : null;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String presented = presented(ctx);
    ApiTokens.Role role = tokens.roleOf(presented);
    if (role == null) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      HttpJson.error(ctx, ErrorCode.UNAUTHORIZED,
          presented == null ? "Send Authorization: Bearer <token>" : "The bearer token is not valid");
      return;
    }
    if (role != ApiTokens.Role.ADMIN && needsAdmin(ctx.request().path())) {
      HttpJson.error(ctx, ErrorCode.FORBIDDEN, "This operation needs the admin token");
      return;
    }
    ctx.put(ROLE, role);
    ctx.next();
  }

  static boolean needsAdmin(String path) {
    return path.startsWith("/v1/admin/") || path.startsWith("/v1/grants/") && REVOKE.matcher(path).matches();
  }
}
