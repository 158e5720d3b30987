package io.creditledger.support;

import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Stripe's own example objects ({@code ../shared/stripe/fixtures.json}) turned into webhook events, and the
 * {@code Stripe-Signature} header computed the way Stripe documents it: {@code t=<unix seconds>,v1=<hex
 * HMAC-SHA256 of "<t>.<raw body>" keyed with the endpoint secret>}.
 */
public final class StripeFixtures {
  private static JsonObject resources;

  private StripeFixtures() {
  }

  /** A copy of Stripe's fixture for {@code resource} (e.g. "checkout.session", "charge", "event"). */
  public static synchronized JsonObject fixture(String resource) {
    if (resources == null) {
      Path file = locate();
      try {
        resources = new JsonObject(Files.readString(file)).getJsonObject("resources");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    JsonObject f = resources.getJsonObject(resource);
    if (f == null) {
      throw new IllegalArgumentException("no fixture " + resource);
    }
    return f.copy();
  }

  private static Path locate() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolveSibling("shared").resolve("stripe").resolve("fixtures.json");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
      Path inside = dir.resolve("shared").resolve("stripe").resolve("fixtures.json");
      if (Files.isRegularFile(inside)) {
        return inside;
      }
    }
    throw new IllegalStateException("../shared/stripe/fixtures.json not found beside the project");
  }

  /** An event of {@code type} around {@code object}, shaped like Stripe's event fixture. */
  public static JsonObject event(String type, JsonObject object, long createdEpochSeconds) {
    JsonObject event = fixture("event");
    event.put("id", "evt_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24));
    event.put("type", type);
    event.put("created", createdEpochSeconds);
    event.put("livemode", false);
    event.put("data", new JsonObject().put("object", object));
    return event;
  }

  public static String signature(String payload, String secret, long timestampSeconds) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] digest = mac.doFinal((timestampSeconds + "." + payload).getBytes(StandardCharsets.UTF_8));
      return "t=" + timestampSeconds + ",v1=" + HexFormat.of().formatHex(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
