package io.creditledger.support;

import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Stripe's own example objects ({@code src/test/resources/stripe/fixtures.json}) turned into webhook events, and the
 * {@code Stripe-Signature} header computed the way Stripe documents it: {@code t=<unix seconds>,v1=<hex
 * HMAC-SHA256 of "<t>.<raw body>" keyed with the endpoint secret>}.
 */
public final class StripeFixtures {
  /** Vendored from Stripe's OpenAPI fixtures; see src/test/resources/stripe/README.md. */
  private static final String RESOURCE = "/stripe/fixtures.json";
  private static JsonObject resources;

  private StripeFixtures() {
  }

  /** A copy of Stripe's fixture for {@code resource} (e.g. "checkout.session", "charge", "event"). */
  public static synchronized JsonObject fixture(String resource) {
    if (resources == null) {
      try (InputStream in = StripeFixtures.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException(RESOURCE + " is missing from the test classpath");
        }
        resources = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getJsonObject("resources");
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
