package io.creditledger.http;

import io.creditledger.support.Api;
import io.creditledger.support.ContractCheck;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonObject;
import io.creditledger.support.Eventually;
import io.creditledger.support.FakeStripe;
import io.creditledger.support.SqlSession;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The edge's authentication audit: every route of the service, in a table, is tried without a token, with
 * wrong tokens and wrong schemes, and (for admin routes) with the service token. None of those attempts may
 * get through or write anything; the right token must get through. The Stripe webhook answers by its signature,
 * never by a bearer token. The table is checked against the README's HTTP API table and against the routes the
 * running service's router holds, so a new route cannot be left out of the audit (and open) unnoticed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EdgeAuthAuditTest {
  /** Closed after the app, which calls it. */
  @AutoClose
  static final FakeStripe stripe = FakeStripe.start();

  static {
    // reconciliation lists from the fake Stripe; creates fail there once and then wait an hour of a clock that
    // stands still, so the outbox rows stay as they are for the state comparisons and the retry route
    stripe.outage("POST", "/v1/billing/credit_grants", true);
  }

  static final String WEBHOOK_SECRET = "whsec_auth_audit_0123456789abcdef";
  static final String VAULT_SECRET = "auth-audit-vault-secret-32bytes!"; // exactly 32 bytes
  static final List<String> KEY_TYPES = List.of("anthropic", "gemini", "openai");

  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET,
      "API_KEY_ENCRYPTION_SECRET", VAULT_SECRET, "STRIPE_API_KEY", "sk_test_edge", "STRIPE_API_BASE", stripe.baseUrl(),
      "STRIPE_BACKOFF_BASE", "PT1H", "STRIPE_BACKOFF_MAX", "PT2H"), started -> app = started);

  static HttpClient http;
  static String base;
  /** The victims' state before any unauthorized attempt, read with the admin token. */
  static Map<String, String> before;
  static Map<String, Long> countsBefore;
  static long victimOutboxId;
  static long okOutboxId;
  /** a webhook delivery that stays pending (its endpoint listens on the discard port) */
  static long hookDeliveryId;

  /** METRICS: the admin token or a METRICS_TOKEN, which the service token is not (401, not 403). */
  enum Access { OPEN, SERVICE, ADMIN, SIGNATURE, METRICS }

  /** One row of the audit table: a concrete request that would succeed (or at least act) with the right credentials. */
  record Route(String method, String template, String path, String body, Access access) {
    boolean needsBody() {
      return body != null;
    }

    @Override
    public String toString() {
      return method + " " + path + " (" + access + ")";
    }
  }

  record Reply(int status, Map<String, List<String>> headers, String body) {
    String header(String name) {
      return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
          .flatMap(e -> e.getValue().stream()).findFirst().orElse(null);
    }

    String errorCode() {
      try {
        JsonObject error = new JsonObject(body).getJsonObject("error");
        return error == null ? null : error.getString("code");
      } catch (RuntimeException e) {
        return null;
      }
    }

    @Override
    public String toString() {
      return status + " " + body;
    }
  }

  @BeforeAll
  static void prepare() {
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    base = "http://127.0.0.1:" + app.ledger.httpPort();

    assertThat(app.admin.put("/v1/admin/webhook-endpoints/audit-hooks", new JsonObject()
        .put("url", "http://127.0.0.1:9/hooks").put("events", new io.vertx.core.json.JsonArray().add("grant.created")))
        .status()).isEqualTo(201);

    // the victims: what an attacker without the right token would like to change
    app.user("audit-victim", new JsonObject().put("email", "victim@example.com").put("stripeCustomerId", "cus_auditvictim"));
    app.user("audit-victim2");
    assertThat(app.grant("audit-victim", "audit-victim-p1", "purchase", 500).status()).isEqualTo(201);
    assertThat(app.consume("audit-victim", "audit-victim-c1", 20).status()).isEqualTo(200);
    assertThat(app.api.put("/v1/users/audit-victim/api-keys/openai", new JsonObject().put("apiKey", "sk-victim-secret-0001"))
        .status()).isEqualTo(201);
    victimOutboxId = outboxIdOf("audit-victim");

    // the users the right tokens act on, in the last test
    app.user("audit-ok", new JsonObject().put("email", "ok@example.com").put("stripeCustomerId", "cus_auditok"));
    app.user("audit-ok2");
    assertThat(app.grant("audit-ok", "audit-ok-p1", "purchase", 500).status()).isEqualTo(201);
    okOutboxId = outboxIdOf("audit-ok");
    Eventually.await("the relay tried every row once", Duration.ofSeconds(10),
        () -> app.number("SELECT count(*) FROM stripe_outbox WHERE attempts = 0") == 0);

    Eventually.await("a webhook delivery", Duration.ofSeconds(10),
        () -> app.number("SELECT count(*) FROM webhook_deliveries") > 0);
    hookDeliveryId = app.number("SELECT min(delivery_id) FROM webhook_deliveries");

    for (String owner : List.of("audit-victim", "audit-ok")) {
      String org = "/v1/orgs/" + owner + "-org";
      assertThat(app.api.put(org, new JsonObject().put("name", owner)).status()).isEqualTo(201);
      for (String member : List.of(owner, owner + "2")) {
        assertThat(app.api.put(org + "/members/" + member, new JsonObject().put("role", "member")).status())
            .isEqualTo(201);
      }
      assertThat(app.api.post(org + "/grants", new JsonObject().put("operationId", owner + "-org-g")
          .put("type", "organization").put("amount", 100)).status()).isEqualTo(201);
    }
    before = victimState();
    countsBefore = counts();
  }

  private static long outboxIdOf(String userId) {
    Api.Response r = app.admin.get("/v1/admin/outbox?limit=500");
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().getJsonArray("rows").stream().map(o -> (JsonObject) o)
        .filter(o -> userId.equals(o.getString("userId")))
        .mapToLong(o -> o.getLong("outboxId")).findFirst()
        .orElseThrow(() -> new AssertionError("no outbox row for " + userId + ": " + r));
  }

  // ---- the table

  /** Every route of the README's HTTP API table, with real ids filled in. */
  static List<Route> table(String user, String user2, String newUser, String grantOp, long outboxId, String opPrefix) {
    List<Route> t = new ArrayList<>();
    t.add(new Route("GET", "/health", "/health", null, Access.OPEN));
    t.add(new Route("GET", "/ready", "/ready", null, Access.OPEN));
    t.add(new Route("GET", "/openapi.json", "/openapi.json", null, Access.OPEN));
    t.add(new Route("GET", "/metrics", "/metrics", null, Access.METRICS));
    // the admin console's page: open, it holds no data (its calls carry the admin token to the /v1 routes below)
    t.add(new Route("GET", "/console", "/console", null, Access.OPEN));
    t.add(new Route("GET", "/console/", "/console/", null, Access.OPEN));
    t.add(new Route("GET", "/console/{}", "/console/console.js", null, Access.OPEN));
    t.add(new Route("PUT", "/v1/users/{}", "/v1/users/" + newUser,
        new JsonObject().put("email", newUser + "@example.com").encode(), Access.SERVICE));
    t.add(new Route("GET", "/v1/users/{}", "/v1/users/" + user, null, Access.SERVICE));
    t.add(new Route("POST", "/v1/users/{}/grants", "/v1/users/" + user + "/grants",
        new JsonObject().put("operationId", opPrefix + "-grant").put("type", "purchase").put("amount", 5).encode(),
        Access.SERVICE));
    t.add(new Route("POST", "/v1/users/{}/grants", "/v1/users/" + user + "/grants",
        new JsonObject().put("operationId", opPrefix + "-admin-grant").put("type", "admin").put("amount", 5).encode(),
        Access.ADMIN));
    t.add(new Route("GET", "/v1/users/{}/grants", "/v1/users/" + user + "/grants?limit=10", null, Access.SERVICE));
    t.add(new Route("POST", "/v1/users/{}/consume", "/v1/users/" + user + "/consume",
        new JsonObject().put("operationId", opPrefix + "-consume").put("amount", 1).encode(), Access.SERVICE));
    t.add(new Route("GET", "/v1/users/{}/balance", "/v1/users/" + user + "/balance", null, Access.SERVICE));
    t.add(new Route("PUT", "/v1/users/{}/auto-top-up", "/v1/users/" + user + "/auto-top-up",
        new JsonObject().put("enabled", true).put("threshold", 100).put("amount", 500).encode(), Access.SERVICE));
    t.add(new Route("GET", "/v1/users/{}/auto-top-up", "/v1/users/" + user + "/auto-top-up", null, Access.SERVICE));
    t.add(new Route("GET", "/v1/users/{}/ledger", "/v1/users/" + user + "/ledger?limit=10", null, Access.SERVICE));
    String hold = "/v1/users/" + user + "/holds/" + opPrefix + "-hold";
    t.add(new Route("POST", "/v1/users/{}/holds", "/v1/users/" + user + "/holds",
        new JsonObject().put("operationId", opPrefix + "-hold").put("amount", 1).encode(), Access.SERVICE));
    t.add(new Route("GET", "/v1/users/{}/holds", "/v1/users/" + user + "/holds?state=held", null, Access.SERVICE));
    t.add(new Route("GET", "/v1/users/{}/holds/{}", hold, null, Access.SERVICE));
    t.add(new Route("POST", "/v1/users/{}/holds/{}/capture", hold + "/capture",
        new JsonObject().put("operationId", opPrefix + "-capture").put("amount", 1).encode(), Access.SERVICE));
    t.add(new Route("POST", "/v1/users/{}/holds", "/v1/users/" + user + "/holds",
        new JsonObject().put("operationId", opPrefix + "-hold2").put("amount", 1).encode(), Access.SERVICE));
    t.add(new Route("POST", "/v1/users/{}/holds/{}/release", "/v1/users/" + user + "/holds/" + opPrefix
        + "-hold2/release", "{}", Access.SERVICE));
    // the org of the user (set up in prepare), whose members are the user and user2
    String org = "/v1/orgs/" + user + "-org";
    t.add(new Route("PUT", "/v1/orgs/{}", "/v1/orgs/" + newUser + "-org",
        new JsonObject().put("name", "New org").encode(), Access.SERVICE));
    t.add(new Route("GET", "/v1/orgs/{}", org, null, Access.SERVICE));
    t.add(new Route("PUT", "/v1/orgs/{}/members/{}", org + "/members/" + user,
        new JsonObject().put("role", "owner").encode(), Access.SERVICE));
    t.add(new Route("GET", "/v1/orgs/{}/members", org + "/members", null, Access.SERVICE));
    t.add(new Route("POST", "/v1/orgs/{}/grants", org + "/grants", new JsonObject().put("operationId", opPrefix
        + "-org-grant").put("type", "organization").put("amount", 5).encode(), Access.SERVICE));
    t.add(new Route("GET", "/v1/orgs/{}/grants", org + "/grants?limit=10", null, Access.SERVICE));
    t.add(new Route("GET", "/v1/orgs/{}/balance", org + "/balance", null, Access.SERVICE));
    t.add(new Route("GET", "/v1/orgs/{}/ledger", org + "/ledger?limit=10", null, Access.SERVICE));
    t.add(new Route("POST", "/v1/orgs/{}/consume", org + "/consume", new JsonObject().put("operationId", opPrefix
        + "-org-consume").put("userId", user).put("amount", 1).encode(), Access.SERVICE));
    t.add(new Route("GET", "/v1/orgs/{}/usage", org + "/usage", null, Access.SERVICE));
    t.add(new Route("PUT", "/v1/orgs/{}/auto-top-up", org + "/auto-top-up", new JsonObject().put("enabled", false)
        .put("threshold", 10).put("amount", 500).encode(), Access.SERVICE));
    t.add(new Route("GET", "/v1/orgs/{}/auto-top-up", org + "/auto-top-up", null, Access.SERVICE));
    String orgHold = org + "/holds/" + opPrefix + "-org-hold";
    t.add(new Route("POST", "/v1/orgs/{}/holds", org + "/holds", new JsonObject().put("operationId", opPrefix
        + "-org-hold").put("userId", user).put("amount", 1).encode(), Access.SERVICE));
    t.add(new Route("GET", "/v1/orgs/{}/holds", org + "/holds", null, Access.SERVICE));
    t.add(new Route("GET", "/v1/orgs/{}/holds/{}", orgHold, null, Access.SERVICE));
    t.add(new Route("POST", "/v1/orgs/{}/holds/{}/capture", orgHold + "/capture", new JsonObject()
        .put("operationId", opPrefix + "-org-capture").put("amount", 1).encode(), Access.SERVICE));
    t.add(new Route("POST", "/v1/orgs/{}/holds", org + "/holds", new JsonObject().put("operationId", opPrefix
        + "-org-hold2").put("userId", user).put("amount", 1).encode(), Access.SERVICE));
    t.add(new Route("POST", "/v1/orgs/{}/holds/{}/release", org + "/holds/" + opPrefix + "-org-hold2/release", "{}",
        Access.SERVICE));
    t.add(new Route("DELETE", "/v1/orgs/{}/members/{}", org + "/members/" + user2, null, Access.SERVICE));
    t.add(new Route("POST", "/v1/grants/{}/revoke", "/v1/grants/" + grantOp + "/revoke",
        new JsonObject().put("reason", "audit").encode(), Access.ADMIN));
    t.add(new Route("POST", "/v1/referrals", "/v1/referrals", new JsonObject().put("operationId", opPrefix + "-referral")
        .put("referrerId", user).put("referredId", user2).put("credits", 5).encode(), Access.SERVICE));
    for (String type : KEY_TYPES) {
      String path = "/v1/users/" + user + "/api-keys/" + type;
      t.add(new Route("PUT", "/v1/users/{}/api-keys/{}", path,
          new JsonObject().put("apiKey", "sk-" + opPrefix + "-" + type).encode(), Access.SERVICE));
      t.add(new Route("GET", "/v1/users/{}/api-keys/{}", path, null, Access.SERVICE));
      t.add(new Route("DELETE", "/v1/users/{}/api-keys/{}", path, null, Access.SERVICE));
    }
    t.add(new Route("POST", "/v1/stripe/webhook", "/v1/stripe/webhook", unsignedEvent(opPrefix), Access.SIGNATURE));
    t.add(new Route("GET", "/v1/admin/outbox", "/v1/admin/outbox?status=dead", null, Access.ADMIN));
    t.add(new Route("POST", "/v1/admin/outbox/{}/retry", "/v1/admin/outbox/" + outboxId + "/retry", null, Access.ADMIN));
    t.add(new Route("POST", "/v1/admin/resets/run", "/v1/admin/resets/run", null, Access.ADMIN));
    t.add(new Route("GET", "/v1/admin/audit", "/v1/admin/audit?userId=" + user, null, Access.ADMIN));
    t.add(new Route("POST", "/v1/admin/stripe/reconcile", "/v1/admin/stripe/reconcile",
        new JsonObject().put("userId", user).encode(), Access.ADMIN));
    t.add(new Route("GET", "/v1/admin/stripe/reconcile", "/v1/admin/stripe/reconcile", null, Access.ADMIN));
    // an endpoint nobody listens on (the discard port), for an event nothing here raises
    t.add(new Route("PUT", "/v1/admin/webhook-endpoints/{}", "/v1/admin/webhook-endpoints/" + opPrefix + "-hook",
        new JsonObject().put("url", "http://127.0.0.1:9/hooks")
            .put("events", new io.vertx.core.json.JsonArray().add("reset.completed")).encode(), Access.ADMIN));
    t.add(new Route("GET", "/v1/admin/webhook-endpoints", "/v1/admin/webhook-endpoints", null, Access.ADMIN));
    t.add(new Route("DELETE", "/v1/admin/webhook-endpoints/{}", "/v1/admin/webhook-endpoints/" + opPrefix + "-hook",
        null, Access.ADMIN));
    t.add(new Route("GET", "/v1/admin/outbox/webhooks", "/v1/admin/outbox/webhooks?status=dead", null, Access.ADMIN));
    t.add(new Route("POST", "/v1/admin/outbox/webhooks/{}/retry", "/v1/admin/outbox/webhooks/" + hookDeliveryId + "/retry", null,
        Access.ADMIN));
    return t;
  }

  /** A purchase event that would grant credits to the victim, were it signed. */
  static String unsignedEvent(String opPrefix) {
    JsonObject session = new JsonObject().put("id", "cs_" + opPrefix).put("object", "checkout.session")
        .put("payment_status", "paid").put("payment_intent", "pi_" + opPrefix)
        .put("metadata", new JsonObject().put("userId", "audit-victim").put("credits", "999").put("operationId", opPrefix + "-stripe"));
    return new JsonObject().put("id", "evt_" + opPrefix).put("object", "event").put("type", "checkout.session.completed")
        .put("created", app.clock.instant().getEpochSecond()).put("data", new JsonObject().put("object", session)).encode();
  }

  static List<Route> victimTable() {
    return table("audit-victim", "audit-victim2", "audit-ghost", "audit-victim-p1", victimOutboxId, "audit-unauth");
  }

  static List<Route> v1Protected(List<Route> table) {
    return table.stream().filter(r -> r.access() == Access.SERVICE || r.access() == Access.ADMIN).toList();
  }

  // ---- HTTP without the test client, to see headers and send any Authorization header

  static Reply send(String method, String path, String contentType, String body, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    headers.forEach(b::header);
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    try {
      HttpRequest request = b.build();
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      ContractCheck.get().check(method, request.uri().getRawPath(), r.statusCode(),
          r.headers().firstValue("Content-Type").orElse(null), r.body());
      return new Reply(r.statusCode(), r.headers().map(), r.body());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(method + " " + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Reply send(Route route, String authorization) {
    Map<String, String> headers = authorization == null ? Map.of() : Map.of("Authorization", authorization);
    return send(route.method(), route.path(), route.needsBody() ? "application/json" : null, route.body(), headers);
  }

  /** Authorization headers that must never get through: missing, wrong, empty, other schemes, the right token mangled. */
  static Map<String, String> badCredentials() {
    String svc = TestApp.SERVICE_TOKEN;
    Map<String, String> bad = new LinkedHashMap<>();
    bad.put("no Authorization header", null);
    bad.put("a wrong token", "Bearer wrong-token-0123456789abcdef");
    bad.put("Bearer with no token", "Bearer");
    bad.put("Bearer with a blank token", "Bearer  \t ");
    bad.put("an empty header", "");
    bad.put("Basic user:password", "Basic " + Base64.getEncoder().encodeToString("user:password".getBytes(StandardCharsets.UTF_8)));
    bad.put("Basic with the base64 of the right token", "Basic " + Base64.getEncoder().encodeToString(svc.getBytes(StandardCharsets.UTF_8)));
    bad.put("Basic with the right token", "Basic " + svc);
    bad.put("Basic with the admin token", "Basic " + TestApp.ADMIN_TOKEN);
    bad.put("Token scheme with the right token", "Token " + svc);
    bad.put("Digest scheme", "Digest username=\"admin\", response=\"" + svc + "\"");
    bad.put("the right token without a scheme", svc);
    bad.put("the right token glued to the scheme", "Bearer" + svc);
    bad.put("the right token after 'Bearer:'", "Bearer:" + svc);
    bad.put("the right token upper-cased", "Bearer " + svc.toUpperCase(Locale.ROOT));
    bad.put("the right token with a suffix", "Bearer " + svc + "x");
    bad.put("the right token cut short", "Bearer " + svc.substring(0, svc.length() - 1));
    bad.put("two tokens in one header", "Bearer " + svc + " " + TestApp.ADMIN_TOKEN);
    bad.put("the right token after another scheme's credentials", "Basic abc, Bearer " + svc);
    return bad;
  }

  static void assertUnauthorized(Route route, String what, Reply r) {
    assertThat(r.status()).as("%s with %s -> %s", route, what, r).isEqualTo(401);
    assertThat(r.errorCode()).as("%s with %s -> %s", route, what, r).isEqualTo("unauthorized");
    assertThat(r.header("WWW-Authenticate")).as("%s with %s: WWW-Authenticate", route, what)
        .isNotNull().startsWithIgnoringCase("Bearer");
  }

  // ---- the tests

  @Test
  @Order(1)
  void noAuthorizationHeaderIs401WithAChallengeOnEveryV1Route() {
    List<Route> routes = v1Protected(victimTable());
    assertThat(routes).hasSizeGreaterThanOrEqualTo(20);
    for (Route route : routes) {
      assertUnauthorized(route, "no Authorization header", send(route, null));
    }
  }

  @Test
  @Order(2)
  void wrongTokensEmptyTokensAndWrongSchemesAre401OnEveryV1Route() {
    for (Route route : v1Protected(victimTable())) {
      for (Map.Entry<String, String> bad : badCredentials().entrySet()) {
        assertUnauthorized(route, bad.getKey(), send(route, bad.getValue()));
      }
    }
  }

  @Test
  @Order(3)
  void theServiceTokenOnAdminRoutesIs403() {
    List<Route> admin = victimTable().stream().filter(r -> r.access() == Access.ADMIN).toList();
    assertThat(admin).extracting(Route::template).contains("/v1/grants/{}/revoke", "/v1/admin/outbox",
        "/v1/admin/outbox/{}/retry", "/v1/admin/resets/run", "/v1/admin/audit", "/v1/users/{}/grants");
    for (Route route : admin) {
      Reply r = send(route, "Bearer " + TestApp.SERVICE_TOKEN);
      assertThat(r.status()).as("%s with the service token -> %s", route, r).isEqualTo(403);
      assertThat(r.errorCode()).as("%s with the service token -> %s", route, r).isEqualTo("forbidden");
    }
  }

  @Test
  @Order(4)
  void theWebhookAnswersByItsSignatureNeverByABearerToken() {
    Route webhook = victimTable().stream().filter(r -> r.access() == Access.SIGNATURE).findFirst().orElseThrow();
    Map<String, String> authorizations = new LinkedHashMap<>(badCredentials());
    authorizations.put("the service token", "Bearer " + TestApp.SERVICE_TOKEN);
    authorizations.put("the admin token", "Bearer " + TestApp.ADMIN_TOKEN);
    for (Map.Entry<String, String> auth : authorizations.entrySet()) {
      Reply r = send(webhook, auth.getValue());
      assertThat(r.status()).as("webhook without a signature, with %s -> %s", auth.getKey(), r).isEqualTo(400);
      assertThat(r.errorCode()).as("webhook without a signature, with %s -> %s", auth.getKey(), r)
          .isEqualTo("invalid_signature");
    }
    long now = app.clock.instant().getEpochSecond();
    List<String> forged = List.of("t=" + now + ",v1=" + "0".repeat(64), "v1=" + "ab".repeat(32), "t=" + now,
        "t=" + now + ",v0=" + "0".repeat(64), "Bearer " + TestApp.ADMIN_TOKEN, WEBHOOK_SECRET);
    for (String signature : forged) {
      Reply r = send("POST", webhook.path(), "application/json", webhook.body(),
          Map.of("Stripe-Signature", signature, "Authorization", "Bearer " + TestApp.ADMIN_TOKEN));
      assertThat(r.status()).as("webhook with Stripe-Signature %s -> %s", signature, r).isEqualTo(400);
      assertThat(r.errorCode()).as("webhook with Stripe-Signature %s -> %s", signature, r)
          .isIn("invalid_signature", "stale_timestamp", "invalid_payload");
    }
    // and the webhook path under another method is an ordinary /v1 path: the token is checked first
    Reply get = send("GET", "/v1/stripe/webhook", null, null, Map.of());
    assertThat(get.status()).as("GET /v1/stripe/webhook without a token -> %s", get).isEqualTo(401);
  }

  /**
   * The audit: every route of the table, every route the README documents and every route the service's router
   * holds, under every method and some spellings of its path, answers no 2xx without a token.
   */
  @Test
  @Order(5)
  void noRouteIsLeftOpen() {
    List<Route> table = victimTable();
    Set<String> tableRoutes = new LinkedHashSet<>();
    table.forEach(r -> tableRoutes.add(r.method() + " " + r.template()));

    Set<String> documented = documentedRoutes();
    assertThat(documented).as("routes in the README's HTTP API table").hasSizeGreaterThanOrEqualTo(15);
    assertThat(tableRoutes).as("the audit table covers every route the README documents").containsAll(documented);

    // routes the router holds that the table does not know yet are audited with placeholder ids
    Set<String> held = registeredRoutes();
    assertThat(held).as("routes the running service's router holds").hasSizeGreaterThanOrEqualTo(15);
    List<Route> audited = new ArrayList<>(table);
    for (String registered : held) {
      if (!tableRoutes.contains(registered)) {
        String method = registered.substring(0, registered.indexOf(' '));
        String template = registered.substring(registered.indexOf(' ') + 1);
        audited.add(new Route(method, template, template.replace("{}", "audit-victim"), method.equals("GET")
            || method.equals("DELETE") ? null : "{}", template.startsWith("/v1/") ? Access.SERVICE : Access.OPEN));
      }
    }

    List<String> open = new ArrayList<>();
    for (Route route : audited) {
      Reply r = send(route, null);
      switch (route.access()) {
        case OPEN -> {
          if (route.template().equals("/health") || route.template().equals("/ready")
              || route.template().equals("/openapi.json") || route.template().startsWith("/console/")) {
            assertThat(r.status()).as("%s is open -> %s", route, r).isEqualTo(200);
          }
          if (route.template().equals("/console")) {
            assertThat(r.status()).as("%s is open: a redirect to the page -> %s", route, r).isEqualTo(302);
            assertThat(r.header("Location")).as("%s: Location", route).isEqualTo("/console/");
          }
        }
        case SIGNATURE -> {
          assertThat(r.status()).as("%s without token or signature -> %s", route, r).isEqualTo(400);
          assertThat(r.errorCode()).as("%s without token or signature -> %s", route, r).isEqualTo("invalid_signature");
        }
        default -> assertUnauthorized(route, "no token", r);
      }
      if (route.access() != Access.OPEN && r.status() / 100 == 2) {
        open.add(route + " -> " + r);
      }
      // the same path under every method, and other spellings of the path
      if (route.access() != Access.OPEN) {
        for (String method : List.of("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")) {
          for (String path : spellings(route.path())) {
            Reply other = send(method, path, route.needsBody() ? "application/json" : null,
                method.equals("GET") || method.equals("HEAD") ? null : route.body(), Map.of());
            if (other.status() / 100 == 2) {
              open.add(method + " " + path + " -> " + other);
            }
            if (path.startsWith("/v1/") && !(method.equals("POST") && route.access() == Access.SIGNATURE)) {
              assertThat(other.status()).as("%s %s without a token -> %s", method, path, other).isEqualTo(401);
            }
          }
        }
      }
    }
    // unknown paths under /v1 do not tell an anonymous caller whether they exist
    for (String unknown : List.of("/v1/nothing-here", "/v1/users", "/v1/users/audit-victim/secrets", "/v1/admin",
        "/v1/admin/users", "/v1/grants", "/v1/users/audit-victim/api-keys")) {
      Reply r = send("GET", unknown, null, null, Map.of());
      assertThat(r.status()).as("GET %s without a token -> %s", unknown, r).isEqualTo(401);
    }
    assertThat(open).as("routes that answered 2xx without any token").isEmpty();
  }

  /**
   * The console's files need no token, and its path leads nowhere else: walking out of it into /v1, under any
   * spelling, still meets the bearer check; a name that is not one of its files is a 404.
   */
  @Test
  @Order(6)
  void theConsoleIsOpenButLeadsNowhereElse() {
    Reply page = send("GET", "/console/", null, null, Map.of());
    assertThat(page.status()).as("GET /console/ -> %s", page).isEqualTo(200);
    assertThat(page.header("Content-Type")).startsWith("text/html");
    assertThat(page.header("Content-Security-Policy")).contains("default-src 'self'");
    assertThat(send("GET", "/console/console.js", null, null, Map.of()).status()).isEqualTo(200);
    for (String path : List.of("/console/../v1/admin/audit", "/console/%2e%2e/v1/admin/audit",
        "/console/..%2fv1%2fadmin%2faudit", "/console/%2e%2e%2fv1%2fadmin%2faudit", "/console//v1/admin/audit",
        "/console/./../v1/users/audit-victim", "/console/v1/admin/audit", "/console/nothing-here.js",
        "/console/.hidden", "/console/..%2flogback.xml")) {
      for (String method : List.of("GET", "HEAD", "POST", "PUT", "DELETE")) {
        Reply r = send(method, path, method.equals("GET") || method.equals("HEAD") ? null : "application/json",
            method.equals("GET") || method.equals("HEAD") ? null : "{}", Map.of());
        assertThat(r.status()).as("%s %s without a token -> %s", method, path, r).isIn(401, 404, 405);
      }
    }
  }

  @Test
  @Order(10)
  void unauthorizedAttemptsCreateAndChangeNothing() {
    // once more, every kind of refused attempt, on every route, with bodies that would write if they got through
    for (Route route : victimTable()) {
      if (route.access() == Access.OPEN) {
        continue;
      }
      for (String bad : badCredentials().values()) {
        Reply r = send(route, bad);
        assertThat(r.status()).as("%s with %s -> %s", route, bad, r).isIn(400, 401);
      }
      if (route.access() == Access.ADMIN) {
        assertThat(send(route, "Bearer " + TestApp.SERVICE_TOKEN).status()).as(route.toString()).isEqualTo(403);
      }
      if (route.access() == Access.METRICS) {
        assertThat(send(route, "Bearer " + TestApp.SERVICE_TOKEN).status()).as(route.toString()).isEqualTo(401);
      }
    }
    // checked through the API, with the admin token
    assertThat(app.admin.get("/v1/users/audit-ghost").status()).as("no user was created").isEqualTo(404);
    for (String type : List.of("anthropic", "gemini")) {
      assertThat(app.admin.get("/v1/users/audit-victim/api-keys/" + type).status()).as("no %s key was stored", type)
          .isEqualTo(404);
    }
    assertThat(victimState()).as("the victims' user, grants, journal, balance, keys and outbox are unchanged")
        .isEqualTo(before);
    assertThat(counts()).as("row counts").isEqualTo(countsBefore);
  }

  @Test
  @Order(20)
  void theRightTokenGetsThrough() {
    List<Route> routes = table("audit-ok", "audit-ok2", "audit-ok-new", "audit-ok-p1", okOutboxId, "audit-ok");
    for (Route route : routes) {
      if (route.access() == Access.OPEN || route.access() == Access.SIGNATURE) {
        continue;
      }
      String token = route.access() == Access.ADMIN || route.access() == Access.METRICS ? TestApp.ADMIN_TOKEN
          : TestApp.SERVICE_TOKEN;
      Reply r = send(route, "Bearer " + token);
      assertThat(r.status()).as("%s with its token -> %s", route, r).isNotIn(401, 403).isLessThan(500);
      assertThat(r.status() / 100).as("%s with its token -> %s", route, r).isEqualTo(2);
    }
    // the admin token works wherever the service token does; the scheme is case-insensitive
    List<Route> again = table("audit-ok", "audit-ok2", "audit-ok-new2", "audit-ok-p1", okOutboxId, "audit-ok-admin");
    for (Route route : again) {
      if (route.access() == Access.OPEN || route.access() == Access.SIGNATURE) {
        continue;
      }
      Reply r = send(route, "bearer " + TestApp.ADMIN_TOKEN);
      assertThat(r.status()).as("%s with the admin token -> %s", route, r).isNotIn(401, 403).isLessThan(500);
    }
  }

  // ---- state, read with the admin token and by counting rows

  static Map<String, String> victimState() {
    Map<String, String> state = new TreeMap<>();
    for (String path : List.of("/v1/users/audit-victim", "/v1/users/audit-victim2",
        "/v1/users/audit-victim/grants?limit=500", "/v1/users/audit-victim2/grants?limit=500",
        "/v1/users/audit-victim/ledger?limit=500", "/v1/users/audit-victim2/ledger?limit=500",
        "/v1/users/audit-victim/balance", "/v1/users/audit-victim2/balance",
        "/v1/users/audit-victim/api-keys/openai", "/v1/admin/outbox?limit=500", "/v1/orgs/audit-victim-org",
        "/v1/orgs/audit-victim-org/members", "/v1/orgs/audit-victim-org/balance",
        "/v1/orgs/audit-victim-org/ledger?limit=500")) {
      Api.Response r = app.admin.get(path);
      // each answer has its own request id: the rest must not change
      state.put(path, r.status() + " " + r.text().replaceAll("\"requestId\":\"[^\"]*\"", "\"requestId\":\"-\""));
    }
    return state;
  }

  static Map<String, Long> counts() {
    Map<String, Long> counts = new TreeMap<>();
    try (SqlSession db = app.db()) {
      for (String table : List.of("users", "grants", "journal", "operations", "referrals", "api_keys", "stripe_outbox",
          "stripe_events", "sync_failure", "events", "webhook_endpoints", "webhook_deliveries",
          "auto_top_ups")) {
        if (db.hasTable(table)) {
          counts.put(table, db.number("SELECT count(*) FROM " + table));
        }
      }
    }
    return counts;
  }

  // ---- where the list of routes comes from

  private static final Pattern README_ROUTE = Pattern.compile("^\\| `(GET|POST|PUT|DELETE|PATCH) (/[^`?]*)");

  /** "METHOD /template" for every row of the README's HTTP API table, with {name} written {}. */
  static Set<String> documentedRoutes() {
    Set<String> routes = new LinkedHashSet<>();
    Path readme = Path.of("README.md");
    assertThat(readme).as("the README (the test runs in the project directory)").exists();
    try {
      for (String line : Files.readAllLines(readme, StandardCharsets.UTF_8)) {
        Matcher m = README_ROUTE.matcher(line);
        if (m.find()) {
          routes.add(m.group(1) + " " + m.group(2).replaceAll("\\{[^}]*}", "{}"));
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return routes;
  }

  /**
   * "METHOD /template" for every route the running service's router holds, with :name written {}. A route for any
   * method on one path is listed under GET (the audit tries every method on it); routes for any method under a
   * prefix, or on no path, are the filters every request passes (the access log, the bearer check), not endpoints.
   * A route on a regular expression has no path to try, so the audit cannot cover it and says so.
   */
  static Set<String> registeredRoutes() {
    Set<String> routes = new LinkedHashSet<>();
    for (io.vertx.ext.web.Route route : app.ledger.routes()) {
      boolean anyMethod = route.methods() == null || route.methods().isEmpty();
      boolean anyPath = route.getPath() == null && !route.isRegexPath();
      if (anyMethod && (anyPath || !route.isExactPath())) {
        continue;
      }
      assertThat(route.getPath()).as("the route %s has no path the audit could try: give it a path, or teach the "
          + "audit to reach it", route.getName()).isNotNull();
      String template = route.getPath().replaceAll(":[A-Za-z0-9_]+", "{}");
      if (anyMethod) {
        routes.add("GET " + template);
      } else {
        route.methods().forEach(m -> routes.add(m.name() + " " + template));
      }
    }
    return routes;
  }

  /** The path, and spellings a lax router might map to the same route. */
  static List<String> spellings(String path) {
    String noQuery = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
    List<String> out = new ArrayList<>();
    out.add(path);
    out.add(noQuery + "/");
    out.add("/" + noQuery);
    out.add(noQuery.replaceFirst("^/v1/", "/v1/./"));
    out.add(noQuery.replaceFirst("^/v1/", "/v1/x/../"));
    out.add(noQuery.replaceFirst("^/v1/", "/%76%31/"));
    out.add(noQuery.replaceFirst("^/v1/", "/v1/%2e/"));
    out.add(noQuery + ";auth=none");
    return out;
  }
}
