package io.creditledger.support;

import io.creditledger.http.OpenApiDocument;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.internal.net.RFC3986;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.validation.ResponseValidator;
import io.vertx.openapi.validation.ValidatableResponse;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every answer the HTTP tests receive, checked against {@code openapi.yaml} with vertx-openapi's response validator:
 * its status must be documented for its operation, and its body must match the documented schema (error bodies
 * included, with the codes each operation lists). A request no operation takes (an unknown path, another method)
 * must be answered by one of the documented routing errors. So the document cannot drift from what the service
 * answers without a test failing.
 */
public final class ContractCheck {
  /** What a request no operation takes may be answered with (see the document's description). */
  private static final Set<String> UNROUTED_CODES = Set.of("not_found", "method_not_allowed", "unauthorized",
      "forbidden", "malformed_request", "uri_too_long", "headers_too_large", "bad_request", "body_too_large",
      "shutting_down");

  private static volatile ContractCheck instance;

  private final OpenAPIContract contract;
  private final ResponseValidator validator;
  private final JsonSchema errorSchema;

  private ContractCheck(OpenAPIContract contract, ResponseValidator validator) {
    this.contract = contract;
    this.validator = validator;
    this.errorSchema = JsonSchema.of(contract.getRawContract().getJsonObject("components").getJsonObject("schemas")
        .getJsonObject("Error"));
  }

  /** The document, loaded once per test JVM (the loading itself checks it against the OpenAPI 3.1 schema). */
  public static ContractCheck get() {
    ContractCheck c = instance;
    if (c == null) {
      synchronized (ContractCheck.class) {
        c = instance;
        if (c == null) {
          Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2));
          OpenAPIContract contract = await(OpenAPIContract.from(vertx, OpenApiDocument.read()), "load openapi.yaml");
          c = instance = new ContractCheck(contract, ResponseValidator.create(vertx, contract));
        }
      }
    }
    return c;
  }

  public OpenAPIContract contract() {
    return contract;
  }

  /**
   * The operation that takes {@code method} on {@code path} (query left out), or null. The path is matched as the
   * router matches it: normalized (percent-encoded unreserved characters decoded, dot segments removed), so
   * {@code /v1/users/%2e%2e/ledger} is {@code /v1/ledger}, which no operation takes, and a trailing slash is
   * optional.
   */
  public Operation operation(String method, String path) {
    String noQuery = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
    // methods are case-sensitive (RFC 9110): "get" is not GET, and no operation takes it
    HttpMethod m = HttpMethod.valueOf(method);
    String normalized = RFC3986.normalizePath(noQuery);
    Operation op = contract.findOperation(normalized, m);
    if (op == null && normalized.length() > 1 && normalized.endsWith("/")) {
      // Vert.x routes match with or without a trailing slash
      op = contract.findOperation(normalized.substring(0, normalized.length() - 1), m);
    }
    return op;
  }

  /** {@code response}, once {@link #check}ed: for tests that send with their own HttpClient. */
  public static java.net.http.HttpResponse<String> checked(java.net.http.HttpResponse<String> response) {
    get().check(response.request().method(), response.request().uri().getRawPath(), response.statusCode(),
        response.headers().firstValue("Content-Type").orElse(null), response.body());
    return response;
  }

  /** Throws an AssertionError saying what differs when the answer breaks the document. */
  public void check(String method, String path, int status, String contentType, String body) {
    String what = method + " " + path + " -> " + status + " " + abbreviated(body);
    if (method.equals("HEAD")) {
      // no operation takes HEAD, and its answer has no body to check: only that it was refused
      if (status / 100 == 2) {
        throw new AssertionError("No operation of openapi.yaml takes HEAD, yet: " + what);
      }
      return;
    }
    Operation op = operation(method, path);
    if (op == null) {
      checkUnrouted(what, contentType, body);
      return;
    }
    String mediaType = contentType == null ? null : contentType.split(";")[0].trim().toLowerCase(Locale.ROOT);
    ValidatableResponse response = body == null || body.isEmpty() || mediaType == null
        ? ValidatableResponse.create(status, Map.of())
        : ValidatableResponse.create(status, Map.of(), Buffer.buffer(body), mediaType);
    try {
      await(validator.validate(response, op.getOperationId()), what);
    } catch (AssertionError e) {
      throw new AssertionError("The answer breaks openapi.yaml (operation " + op.getOperationId() + "): " + what
          + "\n  " + e.getMessage(), e.getCause());
    }
  }

  private void checkUnrouted(String what, String contentType, String body) {
    if (contentType == null || !contentType.startsWith("application/json")) {
      throw new AssertionError("No operation of openapi.yaml takes this request, and it was not answered with a JSON "
          + "error: " + what);
    }
    JsonObject json;
    try {
      json = new JsonObject(body);
    } catch (RuntimeException e) {
      throw new AssertionError("Not JSON: " + what);
    }
    OutputUnit result = contract.getSchemaRepository().validator(errorSchema).validate(json);
    if (!Boolean.TRUE.equals(result.getValid())) {
      throw new AssertionError("No operation takes this request, and its answer is not an Error: " + what + "\n  "
          + result.getErrors());
    }
    String code = json.getJsonObject("error").getString("code");
    if (!UNROUTED_CODES.contains(code)) {
      throw new AssertionError("No operation of openapi.yaml takes this request, yet it was answered " + code
          + " (document the route, or answer it with a routing error): " + what);
    }
  }

  private static <T> T await(Future<T> future, String what) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError(e.getCause().getMessage() + detail(e.getCause()), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("no validation result within 30 s: " + what);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String detail(Throwable t) {
    if (t instanceof io.vertx.openapi.validation.SchemaValidationException s && s.getOutputUnit() != null) {
      return " " + s.getOutputUnit().getErrors();
    }
    return t.getCause() == null ? "" : " (" + t.getCause().getMessage() + ")";
  }

  private static String abbreviated(String body) {
    if (body == null) {
      return "";
    }
    return body.length() <= 400 ? body : body.substring(0, 400) + "…";
  }
}
