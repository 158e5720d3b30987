package io.creditledger.http;

import io.creditledger.api.Addresses;
import io.creditledger.api.CommandSender;
import io.creditledger.auth.ApiTokens;
import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.Command;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Commands;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.Promise;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.PlatformHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * The HTTP API. It checks tokens, reads JSON and forwards every operation, as a command, to the ledger's addresses
 * (over the event bus, or for reads in this event loop: see {@link CommandSender}); it never touches the database
 * itself.
 */
public final class HttpVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(HttpVerticle.class);
  private static final long SHUTDOWN_GRACE_SECONDS = 30;
  private static final long DRAIN_POLL_MS = 20;
  private static final String IDEMPOTENCY_KEY = "Idempotency-Key";
  private static final long REQUEST_TIMEOUT_MS = 30_000;
  /** Admin runs that work through every user (resets, reconciliation) may take this long. */
  private static final long ADMIN_RUN_TIMEOUT_MS = 15 * 60 * 1000;
  private static final String APPLICATION_JSON = "application/json";

  private final LedgerConfig config;
  private final ApiTokens tokens;
  private final IntConsumer boundPort;
  private final Commands commands;
  private final CommandSender ledger;
  private HttpServer server;
  private Router router;
  private final Supplier<String> metrics;
  /** set when the verticle starts to stop; read on its event loop */
  private boolean stopping;
  /** requests being answered (counted on the event loop) */
  private int inFlight;

  /** @param metrics the Prometheus text of the service's meters, for {@code GET /metrics} */
  public HttpVerticle(LedgerConfig config, ApiTokens tokens, Commands commands, CommandSender ledger,
                      IntConsumer boundPort, Supplier<String> metrics) {
    this.metrics = metrics;
    this.config = config;
    this.tokens = tokens;
    this.commands = commands;
    this.ledger = ledger;
    this.boundPort = boundPort;
  }

  @Override
  public Future<?> start() {
    router = Router.router(vertx);
    router.route().handler(new RequestId());
    router.route().handler(new AccessLog());
    router.route().handler(this::refuseWhenStopping);
    router.get("/health").handler(ctx -> HttpJson.send(ctx, 200, new JsonObject().put("status", "ok")));
    router.get("/ready").handler(this::ready);
    router.get("/metrics").handler(this::metrics);
    Buffer openApi = OpenApiDocument.encoded();
    router.get("/openapi.json").handler(ctx -> ctx.response().putHeader("Content-Type", APPLICATION_JSON).end(openApi));
    // the admin console's files are open; the calls the page makes carry the admin token (see Console)
    router.get("/console").handler(Console::redirect);
    router.get("/console/*").handler(Console.HEADERS).handler(Console.files());

    // Stripe's webhook proves itself with its signature, checked on the raw body, instead of a bearer token
    jsonBody(router.post("/v1/stripe/webhook")).handler(this::stripeWebhook);
    router.route("/v1/*").handler(new BearerAuth(tokens));

    jsonBody(router.put("/v1/users/:userId")).handler(withBody(Addresses.USER_PUT, commands::putUser, "userId"));
    router.get("/v1/users/:userId").handler(withPath(Addresses.USER_GET, commands::getUser, "userId"));
    accountRoutes("/v1/users", "userId");
    // organizations: their pools take the same commands as a user's account, named by orgId
    accountRoutes("/v1/orgs", "orgId");
    jsonBody(router.put("/v1/orgs/:orgId")).handler(withBody(Addresses.ORG_PUT, commands::putOrg, "orgId"));
    router.get("/v1/orgs/:orgId").handler(withPath(Addresses.ORG_GET, commands::getOrg, "orgId"));
    jsonBody(router.put("/v1/orgs/:orgId/members/:userId"))
        .handler(withBody(Addresses.ORG_MEMBER_PUT, commands::putOrgMember, "orgId", "userId"));
    router.delete("/v1/orgs/:orgId/members/:userId")
        .handler(withPath(Addresses.ORG_MEMBER_DELETE, commands::deleteOrgMember, "orgId", "userId"));
    router.get("/v1/orgs/:orgId/members").handler(withPath(Addresses.ORG_MEMBER_LIST, commands::listOrgMembers,
        "orgId"));
    router.get("/v1/orgs/:orgId/usage").handler(ctx -> forward(ctx, Addresses.ORG_USAGE,
        c -> commands.orgUsage(queryTexts(c, pathParams(c, new JsonObject(), "orgId"), "from", "to"))));
    jsonBody(router.post("/v1/grants/:operationId/revoke"))
        .handler(withBody(Addresses.GRANT_REVOKE, commands::revoke, "operationId"));
    jsonBody(router.post("/v1/referrals")).handler(withIdempotentBody(Addresses.REFERRAL_CREATE, commands::refer));
    jsonBody(router.put("/v1/users/:userId/api-keys/:type"))
        .handler(withBody(Addresses.API_KEY_PUT, commands::putApiKey, "userId", "type"));
    router.get("/v1/users/:userId/api-keys/:type")
        .handler(withPath(Addresses.API_KEY_GET, commands::apiKeyRef, "userId", "type"));
    router.delete("/v1/users/:userId/api-keys/:type")
        .handler(withPath(Addresses.API_KEY_DELETE, commands::apiKeyRef, "userId", "type"));
    jsonBody(router.post("/v1/admin/resets/run")).handler(ctx -> forward(ctx, Addresses.RESETS_RUN,
        c -> commands.runResets(new JsonObject()), ADMIN_RUN_TIMEOUT_MS));
    router.get("/v1/admin/audit").handler(ctx -> forward(ctx, Addresses.AUDIT,
        c -> commands.audit(queryTexts(c, new JsonObject(), "userId", "orgId"))));
    router.get("/v1/admin/outbox").handler(this::listOutbox);
    jsonBody(router.post("/v1/admin/stripe/reconcile")).handler(ctx -> forward(ctx, Addresses.STRIPE_RECONCILE,
        c -> commands.reconcile(optionalJsonBody(c)), ADMIN_RUN_TIMEOUT_MS));
    router.get("/v1/admin/stripe/reconcile")
        .handler(withPath(Addresses.STRIPE_RECONCILE_LAST, commands::lastReconcile));
    router.get("/v1/admin/outbox/webhooks").handler(ctx -> forward(ctx, Addresses.WEBHOOK_DELIVERY_LIST,
        c -> commands.listWebhookDeliveries(outboxQuery(c))));
    jsonBody(router.post("/v1/admin/outbox/webhooks/:deliveryId/retry")).handler(ctx -> forward(ctx,
        Addresses.WEBHOOK_DELIVERY_RETRY, c -> commands.retryWebhookDelivery(
            new JsonObject().put("deliveryId", number(c.pathParam("deliveryId"), "deliveryId")))));
    jsonBody(router.post("/v1/admin/outbox/:outboxId/retry")).handler(ctx -> forward(ctx, Addresses.OUTBOX_RETRY,
        c -> commands.retryOutbox(new JsonObject().put("outboxId", number(c.pathParam("outboxId"), "outboxId")))));
    jsonBody(router.put("/v1/admin/webhook-endpoints/:endpointId"))
        .handler(withBody(Addresses.WEBHOOK_ENDPOINT_PUT, commands::putWebhookEndpoint, "endpointId"));
    router.get("/v1/admin/webhook-endpoints").handler(ctx -> forward(ctx, Addresses.WEBHOOK_ENDPOINT_LIST,
        c -> commands.listWebhookEndpoints(new JsonObject())));
    router.delete("/v1/admin/webhook-endpoints/:endpointId")
        .handler(withPath(Addresses.WEBHOOK_ENDPOINT_DELETE, commands::webhookEndpointRef, "endpointId"));

    router.errorHandler(404, ctx -> HttpJson.error(ctx, ErrorCode.NOT_FOUND, "No such endpoint"));
    router.errorHandler(405, ctx -> HttpJson.error(ctx, ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed here"));
    router.errorHandler(413, ctx -> HttpJson.error(ctx, ErrorCode.BODY_TOO_LARGE,
        "The body exceeds " + config.httpBodyLimitBytes() + " bytes"));
    router.errorHandler(400, ctx -> HttpJson.error(ctx, ErrorCode.BAD_REQUEST, "Malformed request"));
    router.errorHandler(500, this::internalError);

    return vertx.createHttpServer(new HttpServerOptions().setHost(config.httpHost()).setPort(config.httpPort())
            .setCompressionSupported(false))
        .requestHandler(router)
        .invalidRequestHandler(HttpVerticle::malformed)
        .listen()
        .onSuccess(s -> {
          server = s;
          boundPort.accept(s.actualPort());
        });
  }

  /**
   * The routes every account has, named by {@code account} under {@code base}: a user's ({@code /v1/users/:userId})
   * and an org's pool ({@code /v1/orgs/:orgId}, where a body's {@code userId} is the member who spends or holds).
   */
  private void accountRoutes(String base, String account) {
    String at = base + "/:" + account;
    jsonBody(router.post(at + "/grants")).handler(createGrant(account));
    router.get(at + "/grants").handler(withPage(Addresses.GRANT_LIST, commands::listGrants, account));
    jsonBody(router.post(at + "/consume")).handler(withIdempotentBody(Addresses.CONSUME, commands::consume, account));
    router.get(at + "/balance").handler(withPath(Addresses.BALANCE, commands::balance, account));
    router.get(at + "/ledger").handler(withPage(Addresses.JOURNAL, commands::journal, account));
    jsonBody(router.post(at + "/holds"))
        .handler(withIdempotentBody(Addresses.HOLD_PLACE, commands::placeHold, account));
    router.get(at + "/holds").handler(listHolds(account));
    router.get(at + "/holds/:holdId").handler(withPath(Addresses.HOLD_GET, commands::getHold, account, "holdId"));
    jsonBody(router.post(at + "/holds/:holdId/capture"))
        .handler(withIdempotentBody(Addresses.HOLD_CAPTURE, commands::captureHold, account, "holdId"));
    // the body is {} or nothing at all
    jsonBody(router.post(at + "/holds/:holdId/release")).handler(ctx -> forward(ctx,
        Addresses.HOLD_RELEASE, c -> commands.releaseHold(pathParams(c, optionalJsonBody(c), account, "holdId"))));
    jsonBody(router.put(at + "/auto-top-up"))
        .handler(withBody(Addresses.AUTO_TOP_UP_PUT, commands::putAutoTopUp, account));
    router.get(at + "/auto-top-up").handler(withPath(Addresses.AUTO_TOP_UP_GET, commands::getAutoTopUp, account));
  }

  /** The routes this verticle serves, as its router holds them (once started). */
  public List<Route> routes() {
    return router.getRoutes();
  }

  /**
   * The meters in Prometheus's text format, for the admin token or a {@code METRICS_TOKEN} (which opens nothing
   * else).
   */
  private void metrics(RoutingContext ctx) {
    if (!tokens.mayReadMetrics(BearerAuth.presented(ctx))) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      HttpJson.error(ctx, ErrorCode.UNAUTHORIZED, "GET /metrics needs the admin token or a METRICS_TOKEN");
      return;
    }
    ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.get());
  }

  /** Stops accepting, answers 503 to new requests, lets in-flight ones finish (up to a grace period), then closes. */
  @Override
  public Future<?> stop() {
    stopping = true;
    if (server == null) {
      return Future.succeededFuture();
    }
    // the server keeps accepting while the requests in flight finish, so that new ones hear 503, not silence
    Promise<Void> drained = Promise.promise();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SHUTDOWN_GRACE_SECONDS);
    vertx.setPeriodic(0, DRAIN_POLL_MS, timer -> {
      if (inFlight == 0 || System.nanoTime() - deadline > 0) {
        vertx.cancelTimer(timer);
        drained.complete();
      }
    });
    return drained.future().compose(v -> server.shutdown(0, TimeUnit.SECONDS));
  }

  /**
   * Once the service is stopping, a request that arrives on a connection still open is answered 503
   * {@code shutting_down} before anything reads it (and the connection is closed); the requests already in flight
   * finish.
   */
  private void refuseWhenStopping(RoutingContext ctx) {
    if (!stopping) {
      inFlight++;
      ctx.addEndHandler(done -> inFlight--);
      ctx.next();
      return;
    }
    ctx.response().putHeader("Connection", "close");
    HttpJson.error(ctx, ErrorCode.SHUTTING_DOWN, "The service is shutting down; retry shortly (another instance "
        + "may answer)");
  }

  /** A route that reads a body: only JSON, refused before any decoder (form, multipart) sees anything else. */
  private Route jsonBody(Route route) {
    return route.handler(JsonOnly.INSTANCE).handler(BodyHandler.create(false).setBodyLimit(config.httpBodyLimitBytes()));
  }

  private enum JsonOnly implements PlatformHandler {
    INSTANCE;

    @Override
    public void handle(RoutingContext ctx) {
      String type = ctx.request().getHeader("Content-Type");
      if (type != null && !isJson(type)) {
        HttpJson.error(ctx, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the body as Content-Type: application/json");
        return;
      }
      ctx.next();
    }
  }

  /** Whether a Content-Type is JSON's (any case, parameters allowed), without lower-casing a copy of it. */
  private static boolean isJson(String contentType) {
    return contentType.regionMatches(true, 0, APPLICATION_JSON, 0, APPLICATION_JSON.length());
  }

  /** Requests HTTP itself cannot read (a line or headers too long, a broken request line) still get JSON. */
  private static void malformed(io.vertx.core.http.HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    int status = cause instanceof io.netty.handler.codec.TooLongFrameException
        ? (cause.getMessage() != null && cause.getMessage().contains("header") ? 431 : 414) : 400;
    ErrorCode code = status == 431 ? ErrorCode.HEADERS_TOO_LARGE : status == 414 ? ErrorCode.URI_TOO_LONG
        : ErrorCode.MALFORMED_REQUEST;
    request.response().setStatusCode(status).putHeader("Content-Type", "application/json").putHeader("Connection", "close")
        .end(new JsonObject().put("error", new JsonObject().put("code", code.wire())
            .put("message", "The request could not be read as HTTP")).toBuffer());
  }

  private void ready(RoutingContext ctx) {
    ledger.send(Addresses.READY, new Command.Ready(), REQUEST_TIMEOUT_MS)
        .onSuccess(reply -> HttpJson.send(ctx, 200, reply.body()))
        .onFailure(e -> {
          LedgerException le = e instanceof LedgerException l && l.status() == 503 ? l
              : new LedgerException(ErrorCode.NOT_READY, "The ledger is not ready");
          HttpJson.error(ctx, le);
        });
  }

  /** Forwards a bodiless request: the named path parameters are read into the address's command. */
  private Handler<RoutingContext> withPath(String address, Function<JsonObject, Command> read, String... pathParams) {
    return ctx -> forward(ctx, address, c -> read.apply(pathParams(c, new JsonObject(), pathParams)));
  }

  /** Forwards a JSON body with the named path parameters put into it (the path wins), read into the command. */
  private Handler<RoutingContext> withBody(String address, Function<JsonObject, Command> read, String... pathParams) {
    return ctx -> forward(ctx, address, c -> read.apply(pathParams(c, jsonBody(c), pathParams)));
  }

  /** Like {@link #withBody}, for a route whose body names an operationId, which Idempotency-Key may give instead. */
  private Handler<RoutingContext> withIdempotentBody(String address, Function<JsonObject, Command> read,
                                                     String... pathParams) {
    return ctx -> forward(ctx, address, c -> read.apply(idempotencyKey(c, pathParams(c, jsonBody(c), pathParams))));
  }

  /**
   * Stripe's convention: an {@code Idempotency-Key} header names the operation, as the body's {@code operationId}
   * does; given both, they must be equal.
   */
  private static JsonObject idempotencyKey(RoutingContext ctx, JsonObject body) {
    String key = ctx.request().getHeader(IDEMPOTENCY_KEY);
    if (key == null) {
      return body;
    }
    Object given = body.getValue("operationId");
    if (given != null && !key.equals(given)) {
      throw new LedgerException(ErrorCode.IDEMPOTENCY_KEY_MISMATCH,
          "The Idempotency-Key header and the body's operationId differ; send one, or the same in both");
    }
    return body.put("operationId", key);
  }

  private void stripeWebhook(RoutingContext ctx) {
    forward(ctx, Addresses.STRIPE_WEBHOOK, c -> commands.stripeWebhook(new JsonObject()
        .put("payload", c.body().asString("UTF-8") == null ? "" : c.body().asString("UTF-8"))
        .put("signature", c.request().getHeader("Stripe-Signature"))));
  }

  private void listOutbox(RoutingContext ctx) {
    forward(ctx, Addresses.OUTBOX_LIST, c -> commands.listOutbox(outboxQuery(c)));
  }

  /** An outbox listing's query: {@code status}, {@code limit}, {@code before}. */
  private static JsonObject outboxQuery(RoutingContext c) {
    return queryTexts(c, queryNumbers(c, new JsonObject(), "limit", "before"), "status");
  }

  /** The holds of the account the path names ({@code userId} or {@code orgId}), {@code ?state=&limit=}. */
  private Handler<RoutingContext> listHolds(String account) {
    return ctx -> forward(ctx, Addresses.HOLD_LIST, c -> {
      return commands.listHolds(queryTexts(c, queryNumbers(c, pathParams(c, new JsonObject(), account), "limit"),
          "state"));
    });
  }

  /** Grants to the account the path names ({@code userId} or {@code orgId}); admin grants need the admin token. */
  private Handler<RoutingContext> createGrant(String account) {
    return ctx -> forward(ctx, Addresses.GRANT_CREATE, c -> {
      JsonObject body = idempotencyKey(c, pathParams(c, jsonBody(c), account));
      if ("admin".equals(body.getValue("type")) && c.get(BearerAuth.ROLE) != ApiTokens.Role.ADMIN) {
        throw new LedgerException(ErrorCode.FORBIDDEN, "Admin grants need the admin token");
      }
      return commands.grant(body);
    });
  }

  /** A paginated list of one account ({@code userId} or {@code orgId}): {@code ?limit=&before=} become numbers. */
  private Handler<RoutingContext> withPage(String address, Function<JsonObject, Command> read, String account) {
    return ctx -> forward(ctx, address,
        c -> read.apply(queryNumbers(c, pathParams(c, new JsonObject(), account), "limit", "before")));
  }

  /** The named query parameters that are present, as text (the command's parser checks them). */
  private static JsonObject queryTexts(RoutingContext ctx, JsonObject into, String... names) {
    for (String name : names) {
      String v = ctx.queryParams().get(name);
      if (v != null) {
        into.put(name, v);
      }
    }
    return into;
  }

  private static JsonObject queryNumbers(RoutingContext ctx, JsonObject into, String... names) {
    for (String name : names) {
      String v = ctx.queryParams().get(name);
      if (v != null) {
        into.put(name, number(v, name));
      }
    }
    return into;
  }

  private static long number(String value, String name) {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new LedgerException(ErrorCode.INVALID_FIELD, "\"" + name + "\" must be a whole number");
    }
  }

  private static JsonObject pathParams(RoutingContext ctx, JsonObject into, String... names) {
    for (String name : names) {
      into.put(name, ctx.pathParam(name));
    }
    return into;
  }

  private void forward(RoutingContext ctx, String address, Function<RoutingContext, Command> command) {
    forward(ctx, address, command, REQUEST_TIMEOUT_MS);
  }

  /** Reads the request into its command here, at the edge, and sends the command (not JSON) to the ledger. */
  private void forward(RoutingContext ctx, String address, Function<RoutingContext, Command> command, long timeoutMs) {
    Command request;
    try {
      request = command.apply(ctx);
    } catch (LedgerException e) {
      HttpJson.error(ctx, e);
      return;
    }
    ledger.send(address, request, timeoutMs)
        .onSuccess(reply -> {
          if (reply.replayed()) {
            ctx.response().putHeader("Idempotent-Replayed", "true");
          }
          HttpJson.send(ctx, reply.status(), reply.body());
        })
        .onFailure(e -> fail(ctx, e));
  }

  private static void fail(RoutingContext ctx, Throwable e) {
    LedgerException le = e instanceof LedgerException l ? l
        : new LedgerException(ErrorCode.INTERNAL_ERROR, "The ledger failed to process the request");
    HttpJson.error(ctx, le);
  }

  /** The JSON body, or {} when the request has none (RequestBody.length() is -1 without a body). */
  private static JsonObject optionalJsonBody(RoutingContext ctx) {
    return ctx.body().length() <= 0 ? new JsonObject() : jsonBody(ctx);
  }

  private static JsonObject jsonBody(RoutingContext ctx) {
    String type = ctx.request().getHeader("Content-Type");
    if (type == null || !isJson(type)) {
      throw new LedgerException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the body as Content-Type: application/json");
    }
    if (ctx.body().length() == 0) {
      throw new LedgerException(ErrorCode.INVALID_JSON, "The body must be a JSON object");
    }
    try {
      JsonObject json = ctx.body().asJsonObject();
      if (json == null) {
        throw new LedgerException(ErrorCode.INVALID_JSON, "The body must be a JSON object");
      }
      return json;
    } catch (RuntimeException e) {
      if (e instanceof LedgerException le) {
        throw le;
      }
      throw new LedgerException(ErrorCode.INVALID_JSON, "The body is not a valid JSON object");
    }
  }

  private void internalError(RoutingContext ctx) {
    if (ctx.failure() != null) {
      MDC.put(RequestId.KEY, RequestId.of(ctx));
      try {
        log.error("{} {} failed (request {})", ctx.request().method(), ctx.request().path(), RequestId.of(ctx),
            ctx.failure());
      } finally {
        MDC.remove(RequestId.KEY);
      }
    }
    HttpJson.error(ctx, ErrorCode.INTERNAL_ERROR, "The request failed");
  }
}
