package io.creditledger.stripe;

import com.stripe.exception.ApiConnectionException;
import com.stripe.net.HttpHeaders;
import com.stripe.net.StripeRequest;
import com.stripe.net.StripeResponse;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Semaphore;

/**
 * stripe-java's transport on the JDK's {@code java.net.http} client, with at most {@code maxConnections} calls
 * in flight. Over HTTP/1.1 a connection carries one call at a time and {@code java.net.http} keeps a finished
 * call's connection for the next one, so bounding the calls in flight bounds the sockets: at most
 * {@code maxConnections} connections to Stripe, each reused (one TLS handshake per connection, not per call).
 * stripe-java's default transport, {@code HttpURLConnection}, keeps only a JVM-wide number of idle
 * connections per host ({@code http.maxConnections}, 5) and opens a new one for every other call.
 */
final class PooledHttpClient extends com.stripe.net.HttpClient {
  private final HttpClient http;
  private final Semaphore calls;
  /** The same for every call of the process; stripe-java's own transport rebuilds it per call (reading a jar). */
  private final String clientUserAgent = buildXStripeClientUserAgentString();

  PooledHttpClient(int maxConnections, Duration connectTimeout) {
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(connectTimeout)
        .build();
    this.calls = new Semaphore(maxConnections, true);
  }

  @Override
  public StripeResponse request(StripeRequest request) throws ApiConnectionException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(request.url().toString()))
        .method(request.method().name(), request.content() == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(request.content().byteArrayContent()));
    if (request.options().getReadTimeout() > 0) {
      b.timeout(Duration.ofMillis(request.options().getReadTimeout()));
    }
    request.headers().map().forEach((name, values) -> values.forEach(value -> b.header(name, value)));
    b.setHeader("User-Agent", buildUserAgentString(request));
    b.setHeader("X-Stripe-Client-User-Agent", clientUserAgent);
    if (request.content() != null) {
      b.setHeader("Content-Type", request.content().contentType());
    }
    try {
      calls.acquire();
      try {
        HttpResponse<String> response = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new StripeResponse(response.statusCode(), HttpHeaders.of(response.headers().map()), response.body());
      } finally {
        calls.release();
      }
    } catch (IOException e) {
      throw new ApiConnectionException("IOException during API request to Stripe (" + request.url() + "): " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiConnectionException("Interrupted during API request to Stripe (" + request.url() + ")", e);
    }
  }
}
