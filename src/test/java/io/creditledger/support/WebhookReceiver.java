package io.creditledger.support;

import com.standardwebhooks.Webhook;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * A host application's webhook endpoint on loopback: it records every delivery, checks its Standard Webhooks
 * signature with the reference library once its secret is known, and answers the statuses it is told to (200 when
 * told nothing).
 */
public final class WebhookReceiver implements AutoCloseable {
  /** One delivery as received; {@code signatureValid} as the reference library computes it. */
  public record Delivery(String id, long timestamp, String signature, String body, boolean signatureValid,
                         int answered) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public String type() {
      return json().getString("type");
    }

    public JsonObject data() {
      return json().getJsonObject("data");
    }
  }

  private final HttpServer server;
  private final List<Delivery> received = new ArrayList<>();
  private final Deque<Integer> statuses = new ArrayDeque<>();
  private int otherwise = 200;
  private volatile String secret;

  public WebhookReceiver() {
    try {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/", exchange -> {
      String body;
      try (InputStream in = exchange.getRequestBody()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      String id = exchange.getRequestHeaders().getFirst("webhook-id");
      String timestamp = exchange.getRequestHeaders().getFirst("webhook-timestamp");
      String signature = exchange.getRequestHeaders().getFirst("webhook-signature");
      int status;
      synchronized (this) {
        status = statuses.isEmpty() ? otherwise : statuses.poll();
        received.add(new Delivery(id, timestamp == null ? -1 : Long.parseLong(timestamp), signature, body,
            signed(id, timestamp, signature, body), status));
      }
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
  }

  /**
   * Whether {@code signature} is the reference library's for this id, timestamp and body. (Its {@code verify} also
   * requires the timestamp to be within five minutes of the wall clock, which the tests' clock is not.)
   */
  private boolean signed(String id, String timestamp, String signature, String body) {
    String key = secret;
    if (key == null || id == null || timestamp == null || signature == null) {
      return false;
    }
    try {
      return signature.equals(new Webhook(key).sign(id, Long.parseLong(timestamp), body));
    } catch (Exception e) {
      return false;
    }
  }

  /** Verifies with the reference library's {@code verify}, as a receiver running on the wall clock would. */
  public static boolean verifies(String secret, Delivery d) {
    try {
      new Webhook(secret).verify(d.body(), Map.of("webhook-id", List.of(d.id()),
          "webhook-timestamp", List.of(Long.toString(d.timestamp())), "webhook-signature", List.of(d.signature())));
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/hooks";
  }

  public void secret(String key) {
    this.secret = key;
  }

  /** The next answers, in order; then {@code otherwise}. */
  public synchronized void answer(int... next) {
    for (int s : next) {
      statuses.add(s);
    }
  }

  public synchronized void otherwise(int status) {
    this.otherwise = status;
  }

  public synchronized List<Delivery> received() {
    return List.copyOf(received);
  }

  public List<Delivery> ofType(String type) {
    return received().stream().filter(d -> type.equals(d.type())).toList();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
