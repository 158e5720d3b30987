package io.creditledger.http;

import io.creditledger.error.ErrorCode;
import io.creditledger.support.Api;
import io.creditledger.support.ContractCheck;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * openapi.yaml against the service: the routes the router holds and the document's operations are the same set,
 * both ways; the README's endpoint tables list the same set; each operation's security says what the edge
 * enforces; every error code of the catalog is documented under its own status. That every answer of the HTTP tests
 * matches the document is checked on each answer ({@link ContractCheck}, through {@link Api}); the last test here
 * shows that check refusing answers that drift.
 */
class OpenApiContractTest {
  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch");
  /** A row of a README endpoint table: | `METHOD /path?query` | ... */
  private static final Pattern README_ROUTE = Pattern.compile("^\\| `(GET|POST|PUT|DELETE|PATCH) (/[^`? ]*)");

  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(started -> app = started);

  private static final JsonObject DOCUMENT = OpenApiDocument.read();

  /** The document as written (its references unresolved). */
  private static JsonObject document() {
    return DOCUMENT;
  }

  /** "METHOD /path/{param}" for every operation of the document. */
  private static Set<String> documentedOperations() {
    Set<String> ops = new TreeSet<>();
    document().getJsonObject("paths").forEach(path -> ((JsonObject) path.getValue()).fieldNames().stream()
        .filter(METHODS::contains)
        .forEach(m -> ops.add(m.toUpperCase() + " " + path.getKey())));
    return ops;
  }

  /** Parameter names differ between the router and the document only in spelling; compare shapes. */
  private static String shape(String route) {
    return route.replaceAll("\\{[^}]*}", "{}");
  }

  @Test
  void theDocumentIsServedOpenAsJsonAndIsTheYamlOfTheSourceTree() throws IOException {
    Api.Response r = app.api.withToken(null).get("/openapi.json");
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("application/json");
    JsonObject served = r.json();
    assertThat(served.getString("openapi")).startsWith("3.1");
    assertThat(served).isEqualTo(OpenApiDocument.read());

    Map<String, Object> source = new org.yaml.snakeyaml.Yaml().load(
        Files.readString(Path.of("src/main/resources", OpenApiDocument.RESOURCE), StandardCharsets.UTF_8));
    assertThat(served).as("the served document is the one in the source tree")
        .isEqualTo(new JsonObject(new JsonObject(source).encode()));
  }

  @Test
  void everyRouteTheRouterHoldsIsDocumentedAndEveryDocumentedRouteIsServed() {
    Set<String> registered = new TreeSet<>();
    for (io.vertx.ext.web.Route route : app.ledger.routes()) {
      boolean anyMethod = route.methods() == null || route.methods().isEmpty();
      if (anyMethod) {
        // the filters every request passes (request id, access log, the bearer check), not endpoints
        assertThat(route.getPath() != null && route.isExactPath()).as("a route for any method on one path: %s",
            route.getPath()).isFalse();
        continue;
      }
      assertThat(route.getPath()).as("a route without a path cannot be documented: %s", route.getName()).isNotNull();
      String template = route.getPath().replaceAll(":[A-Za-z0-9_]+", "{}");
      route.methods().forEach(m -> {
        registered.add(m.name() + " " + template);
        if (!route.isExactPath()) {
          // a route on a prefix (/console/*) serves the prefix itself and the names under it
          registered.add(m.name() + " " + template + "{}");
        }
      });
    }
    Set<String> documented = new TreeSet<>();
    documentedOperations().forEach(op -> documented.add(shape(op)));
    assertThat(documented).as("documented in openapi.yaml = held by the router").isEqualTo(registered);
    assertThat(registered).hasSizeGreaterThanOrEqualTo(35);
  }

  @Test
  void theReadmeEndpointTablesListTheDocumentedOperations() throws IOException {
    Set<String> readme = new TreeSet<>();
    for (String line : Files.readAllLines(Path.of("README.md"), StandardCharsets.UTF_8)) {
      Matcher m = README_ROUTE.matcher(line);
      if (m.find()) {
        readme.add(shape(m.group(1) + " " + m.group(2)));
      }
    }
    Set<String> documented = new TreeSet<>();
    documentedOperations().forEach(op -> documented.add(shape(op)));
    assertThat(readme).as("the README's endpoint tables = the operations of openapi.yaml").isEqualTo(documented);
  }

  @Test
  void eachOperationsSecurityIsWhatTheEdgeEnforces() {
    JsonArray serviceOrAdmin = new JsonArray().add(new JsonObject().put("service", new JsonArray()))
        .add(new JsonObject().put("admin", new JsonArray()));
    assertThat(document().getJsonArray("security")).as("the default: the service token or the admin token")
        .isEqualTo(serviceOrAdmin);
    Map<String, String> mismatches = new TreeMap<>();
    document().getJsonObject("paths").forEach(path -> {
      JsonObject item = (JsonObject) path.getValue();
      for (String method : item.fieldNames()) {
        if (!METHODS.contains(method)) {
          continue;
        }
        JsonArray security = item.getJsonObject(method).getJsonArray("security", serviceOrAdmin);
        String p = path.getKey();
        String concrete = p.replaceAll("\\{[^}]*}", "x");
        String expected;
        if (p.equals("/metrics")) {
          expected = "[{\"admin\":[]},{\"metrics\":[]}]";
        } else if (!p.startsWith("/v1/") || p.equals("/v1/stripe/webhook")) {
          expected = "[]";
        } else if (BearerAuth.needsAdmin(concrete)) {
          expected = "[{\"admin\":[]}]";
        } else {
          expected = serviceOrAdmin.encode();
        }
        if (!security.encode().equals(expected)) {
          mismatches.put(method.toUpperCase() + " " + p, security.encode() + " but the edge enforces " + expected);
        }
        boolean authenticated = !expected.equals("[]");
        JsonObject responses = item.getJsonObject(method).getJsonObject("responses");
        if (authenticated != responses.containsKey("401")) {
          mismatches.put(method.toUpperCase() + " " + p + " 401", authenticated ? "missing" : "documented, yet open");
        }
        if (expected.equals("[{\"admin\":[]}]") != responses.containsKey("403")) {
          mismatches.put(method.toUpperCase() + " " + p + " 403", responses.containsKey("403") ? "documented" : "missing");
        }
      }
    });
    // admin grants need the admin token, and an org's pool refuses those who are not its members: 403s of their own
    mismatches.remove("POST /v1/users/{userId}/grants 403");
    mismatches.remove("POST /v1/orgs/{orgId}/grants 403");
    mismatches.remove("POST /v1/orgs/{orgId}/consume 403");
    mismatches.remove("POST /v1/orgs/{orgId}/holds 403");
    assertThat(mismatches).isEmpty();
  }

  @Test
  void everyErrorCodeOfTheCatalogIsDocumentedUnderItsOwnStatus() {
    Set<ErrorCode> seen = EnumSet.noneOf(ErrorCode.class);
    List<String> wrong = new ArrayList<>();
    JsonObject components = document().getJsonObject("components");
    components.getJsonObject("responses").forEach(e -> collect(e.getKey(), null, (JsonObject) e.getValue(), seen, wrong));
    document().getJsonObject("paths").forEach(path -> ((JsonObject) path.getValue()).forEach(op -> {
      if (!METHODS.contains(op.getKey())) {
        return;
      }
      ((JsonObject) op.getValue()).getJsonObject("responses").forEach(r -> collect(
          op.getKey().toUpperCase() + " " + path.getKey() + " " + r.getKey(), Integer.valueOf(r.getKey()),
          (JsonObject) r.getValue(), seen, wrong));
    }));
    assertThat(wrong).as("codes documented under another status than the catalog's, or not in the catalog").isEmpty();
    assertThat(EnumSet.complementOf(EnumSet.copyOf(seen))).as("catalog codes the document never names").isEmpty();
  }

  /** The error codes a response names (its schema's error.code enum or const), checked against the catalog. */
  private static void collect(String where, Integer status, JsonObject response, Set<ErrorCode> seen, List<String> wrong) {
    if (response.containsKey("$ref")) {
      String name = response.getString("$ref").substring("#/components/responses/".length());
      response = document().getJsonObject("components").getJsonObject("responses").getJsonObject(name);
    }
    List<String> codes = new ArrayList<>();
    findCodes(response, codes);
    for (String wire : codes) {
      ErrorCode code = ErrorCode.fromWire(wire);
      if (code == null) {
        wrong.add(where + ": " + wire + " is not in the catalog");
        continue;
      }
      seen.add(code);
      if (status != null && code.status() != status) {
        wrong.add(where + ": " + wire + " is " + code.status() + " in the catalog");
      }
    }
  }

  private static void findCodes(Object node, List<String> into) {
    if (node instanceof JsonObject o) {
      Object c = o.getValue("code");
      if (c instanceof JsonObject code && (code.containsKey("enum") || code.containsKey("const"))) {
        if (code.containsKey("const")) {
          into.add(code.getString("const"));
        } else {
          code.getJsonArray("enum").forEach(v -> into.add((String) v));
        }
      }
      o.forEach(e -> findCodes(e.getValue(), into));
    } else if (node instanceof JsonArray a) {
      a.forEach(v -> findCodes(v, into));
    }
  }

  @Test
  void theCheckRefusesAnswersThatDriftFromTheDocument() {
    ContractCheck check = ContractCheck.get();
    String user = app.api.get("/v1/users/nobody-here").text();
    check.check("GET", "/v1/users/nobody-here", 404, "application/json", user);

    JsonObject good = app.user("contract-u");
    check.check("GET", "/v1/users/contract-u", 200, "application/json", good.encode());
    assertThatThrownBy(() -> check.check("GET", "/v1/users/contract-u", 200, "application/json",
        good.copy().put("surprise", 1).encode())).as("a field the document does not know")
        .isInstanceOf(AssertionError.class).hasMessageContaining("getUser");
    JsonObject missing = good.copy();
    missing.remove("nextQuotaReset");
    assertThatThrownBy(() -> check.check("GET", "/v1/users/contract-u", 200, "application/json", missing.encode()))
        .as("a required field left out").isInstanceOf(AssertionError.class);
    assertThatThrownBy(() -> check.check("GET", "/v1/users/contract-u", 200, "application/json",
        good.copy().put("usageThisCycle", "12").encode())).as("a number sent as text")
        .isInstanceOf(AssertionError.class);
    assertThatThrownBy(() -> check.check("GET", "/v1/users/contract-u", 418, "application/json", "{}"))
        .as("a status the operation does not document").isInstanceOf(AssertionError.class);
    assertThatThrownBy(() -> check.check("POST", "/v1/users/contract-u/consume", 402, "application/json",
        error("user_not_found"))).as("a code the status does not list").isInstanceOf(AssertionError.class);
    check.check("POST", "/v1/users/contract-u/consume", 402, "application/json", error("insufficient_credits"));
    assertThatThrownBy(() -> check.check("GET", "/v1/no-such-thing", 200, "application/json", "{}"))
        .as("an answer to a request no operation takes").isInstanceOf(AssertionError.class);
    check.check("GET", "/v1/no-such-thing", 404, "application/json", error("not_found"));
  }

  private static String error(String code) {
    return new JsonObject().put("error", new JsonObject().put("code", code).put("message", "m")).encode();
  }
}
