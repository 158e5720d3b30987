package io.creditledger.support;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A blocking HTTP client for tests, speaking JSON to the service with a bearer token. Every answer is checked
 * against openapi.yaml ({@link ContractCheck}) before the test sees it.
 */
public final class Api {
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final String base;
  private final String token;

  public Api(int port, String token) {
    this.base = "http://127.0.0.1:" + port;
    this.token = token;
  }

  public Api withToken(String otherToken) {
    return new Api(Integer.parseInt(base.substring(base.lastIndexOf(':') + 1)), otherToken);
  }

  public record Response(int status, String text, java.net.http.HttpHeaders headers) {
    /** The first value of the header {@code name}, or null. */
    public String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    public JsonObject json() {
      return new JsonObject(text);
    }

    public String errorCode() {
      return json().getJsonObject("error").getString("code");
    }

    @Override
    public String toString() {
      return status + " " + text;
    }
  }

  public Response get(String path) {
    return send(request(path).GET());
  }

  public Response put(String path, JsonObject body) {
    return send(request(path).header("Content-Type", "application/json").PUT(bodyOf(body.encode())));
  }

  public Response post(String path, JsonObject body) {
    return send(request(path).header("Content-Type", "application/json").POST(bodyOf(body.encode())));
  }

  public Response delete(String path) {
    return send(request(path).DELETE());
  }

  /** Any method, raw body and content type: for malformed-input tests. */
  public Response raw(String method, String path, String contentType, String body) {
    HttpRequest.Builder b = request(path);
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return send(b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : bodyOf(body)));
  }

  /** Like {@link #raw} with one extra header. */
  public Response rawWithHeader(String method, String path, String contentType, String body, String header,
                                String value) {
    HttpRequest.Builder b = request(path).header(header, value);
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return send(b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : bodyOf(body)));
  }

  private static HttpRequest.BodyPublisher bodyOf(String s) {
    return HttpRequest.BodyPublishers.ofString(s);
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  private static Response send(HttpRequest.Builder b) {
    try {
      HttpRequest request = b.build();
      HttpResponse<String> r = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      ContractCheck.get().check(request.method(), request.uri().getRawPath(), r.statusCode(),
          r.headers().firstValue("Content-Type").orElse(null), r.body());
      return new Response(r.statusCode(), r.body(), r.headers());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
