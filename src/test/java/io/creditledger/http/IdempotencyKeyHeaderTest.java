package io.creditledger.http;

import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The Idempotency-Key header names the operation where a body takes an operationId, as Stripe's API does. */
class IdempotencyKeyHeaderTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "0"),
      started -> app = started);

  private static Api.Response post(String path, JsonObject body, String key) {
    return app.api.rawWithHeader("POST", path, "application/json", body.encode(), "Idempotency-Key", key);
  }

  @Test
  void theHeaderIsTheOperationIdAndARetryWithItReplays() {
    app.user("ik-a");
    Api.Response grant = post("/v1/users/ik-a/grants", new JsonObject().put("type", "purchase").put("amount", 100),
        "ik-a-grant");
    assertThat(grant.status()).as(grant.toString()).isEqualTo(201);
    assertThat(grant.json().getString("operationId")).isEqualTo("ik-a-grant");

    Api.Response first = post("/v1/users/ik-a/consume", new JsonObject().put("amount", 30), "ik-a-c1");
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.json().getString("operationId")).isEqualTo("ik-a-c1");
    Api.Response again = post("/v1/users/ik-a/consume", new JsonObject().put("amount", 30), "ik-a-c1");
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(again.json()).isEqualTo(first.json());
    assertThat(app.balance("ik-a").getLong("totalRemaining")).isEqualTo(70);

    Api.Response both = post("/v1/users/ik-a/consume", new JsonObject().put("amount", 5).put("operationId", "ik-a-c2"),
        "ik-a-c2");
    assertThat(both.status()).isEqualTo(200);
    Api.Response hold = post("/v1/users/ik-a/holds", new JsonObject().put("amount", 10), "ik-a-h1");
    assertThat(hold.status()).isEqualTo(201);
    assertThat(hold.json().getString("holdId")).isEqualTo("ik-a-h1");
    Api.Response capture = post("/v1/users/ik-a/holds/ik-a-h1/capture", new JsonObject().put("amount", 10), "ik-a-cap");
    assertThat(capture.status()).isEqualTo(200);
    assertThat(capture.json().getString("operationId")).isEqualTo("ik-a-cap");
  }

  @Test
  void aHeaderThatDisagreesWithTheBodyOrIsNoIdIsRefusedAndWritesNothing() {
    app.user("ik-b");
    assertThat(app.grant("ik-b", "ik-b-g", "purchase", 100).status()).isEqualTo(201);
    Api.Response mismatch = post("/v1/users/ik-b/consume",
        new JsonObject().put("amount", 5).put("operationId", "ik-b-body"), "ik-b-header");
    assertThat(mismatch.status()).isEqualTo(400);
    assertThat(mismatch.errorCode()).isEqualTo("idempotency_key_mismatch");
    Api.Response bad = post("/v1/users/ik-b/consume", new JsonObject().put("amount", 5), "not an id");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.errorCode()).isEqualTo("invalid_field");
    assertThat(app.balance("ik-b").getLong("totalRemaining")).isEqualTo(100);
    assertThat(app.number("SELECT count(*) FROM operations WHERE user_id = 'ik-b' AND kind = 'consume'")).isZero();
  }
}
