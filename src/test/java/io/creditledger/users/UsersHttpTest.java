package io.creditledger.users;

import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class UsersHttpTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(started -> app = started);

  @Test
  void readyAndHealthAreOpenAndGreen() {
    Api anonymous = app.api.withToken(null);
    assertThat(anonymous.get("/health").status()).isEqualTo(200);
    Api.Response ready = anonymous.get("/ready");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().getString("status")).isEqualTo("ready");
  }

  @Test
  void createsThenUpdatesThenReadsAUser() {
    app.clock.set(Instant.parse("2026-01-31T09:30:00Z"));
    Api.Response created = app.api.put("/v1/users/u-create", new JsonObject()
        .put("email", "a@example.com").put("stripeCustomerId", "cus_A1").put("centsPerCredit", 0.5));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    JsonObject user = created.json();
    assertThat(user.getString("userId")).isEqualTo("u-create");
    assertThat(user.getString("email")).isEqualTo("a@example.com");
    assertThat(user.getString("stripeCustomerId")).isEqualTo("cus_A1");
    assertThat(user.getString("centsPerCredit")).isEqualTo("0.5");
    assertThat(user.getInteger("billingAnchorDay")).isEqualTo(31);
    // anchor day 31 clamps to the end of February
    assertThat(user.getString("nextQuotaReset")).isEqualTo("2026-02-28T09:30:00Z");

    app.clock.set(Instant.parse("2026-02-01T00:00:00Z"));
    Api.Response updated = app.api.put("/v1/users/u-create", new JsonObject().put("email", "b@example.com"));
    assertThat(updated.status()).as(updated.toString()).isEqualTo(200);
    assertThat(updated.json().getString("email")).isEqualTo("b@example.com");
    assertThat(updated.json().getString("stripeCustomerId")).as("absent fields keep their value").isEqualTo("cus_A1");
    assertThat(updated.json().getString("centsPerCredit")).isEqualTo("0.5");
    assertThat(updated.json().getString("nextQuotaReset")).as("an update does not move the cycle")
        .isEqualTo("2026-02-28T09:30:00Z");
    assertThat(updated.json().getString("updatedAt")).isEqualTo("2026-02-01T00:00:00Z");

    Api.Response read = app.api.get("/v1/users/u-create");
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.json()).isEqualTo(updated.json());
  }

  @Test
  void explicitNullUnlinksTheStripeCustomer() {
    app.api.put("/v1/users/u-unlink", new JsonObject().put("email", "u@example.com").put("stripeCustomerId", "cus_X"));
    Api.Response r = app.api.put("/v1/users/u-unlink",
        new JsonObject().put("email", "u@example.com").putNull("stripeCustomerId"));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("stripeCustomerId")).isNull();
  }

  @Test
  void newUserGetsTheDefaultCostPerCredit() {
    Api.Response r = app.api.put("/v1/users/u-default", new JsonObject().put("email", "d@example.com"));
    assertThat(r.json().getString("centsPerCredit")).isEqualTo("1");
    assertThat(r.json().getLong("usageThisCycle")).isZero();
  }

  @Test
  void unknownUserIs404() {
    Api.Response r = app.api.get("/v1/users/nobody");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.errorCode()).isEqualTo("user_not_found");
  }

  @Test
  void badInputIs400WithACodeAndNothingIsWritten() {
    assertBadRequest("/v1/users/u-bad", new JsonObject(), "missing_field");
    assertBadRequest("/v1/users/u-bad", new JsonObject().put("email", 42), "invalid_field");
    assertBadRequest("/v1/users/u-bad", new JsonObject().put("email", "not-an-email"), "invalid_field");
    assertBadRequest("/v1/users/u-bad", new JsonObject().put("email", "a@b.c").put("stripeCustomerId", "acct_1"),
        "invalid_field");
    assertBadRequest("/v1/users/u-bad", new JsonObject().put("email", "a@b.c").put("centsPerCredit", -1), "invalid_field");
    assertBadRequest("/v1/users/u-bad", new JsonObject().put("email", "a@b.c").put("centsPerCredit", "0.00001"),
        "invalid_field");
    assertBadRequest("/v1/users/u-bad", new JsonObject().put("email", "a@b.c").put("admin", true), "unknown_field");
    assertBadRequest("/v1/users/bad%20id", new JsonObject().put("email", "a@b.c"), "invalid_field");

    Api.Response notJson = app.api.raw("PUT", "/v1/users/u-bad", "application/json", "{\"email\":");
    assertThat(notJson.status()).isEqualTo(400);
    assertThat(notJson.errorCode()).isEqualTo("invalid_json");
    Api.Response array = app.api.raw("PUT", "/v1/users/u-bad", "application/json", "[1,2]");
    assertThat(array.status()).isEqualTo(400);
    assertThat(array.errorCode()).isEqualTo("invalid_json");
    Api.Response text = app.api.raw("PUT", "/v1/users/u-bad", "text/plain", "{\"email\":\"a@b.c\"}");
    assertThat(text.status()).isEqualTo(415);
    assertThat(text.errorCode()).isEqualTo("unsupported_media_type");

    assertThat(app.api.get("/v1/users/u-bad").status()).isEqualTo(404);
  }

  private static void assertBadRequest(String path, JsonObject body, String code) {
    Api.Response r = app.api.put(path, body);
    assertThat(r.status()).as(body.encode() + " -> " + r).isEqualTo(400);
    assertThat(r.errorCode()).isEqualTo(code);
    assertThat(r.json().getJsonObject("error").getString("message")).isNotBlank();
  }

  @Test
  void tokensAreRequired() {
    Api.Response none = app.api.withToken(null).get("/v1/users/u-default");
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.errorCode()).isEqualTo("unauthorized");
    Api.Response wrong = app.api.withToken("not-the-token-at-all").put("/v1/users/u-auth",
        new JsonObject().put("email", "a@b.c"));
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(app.api.get("/v1/users/u-auth").status()).as("nothing written without a token").isEqualTo(404);
    assertThat(app.admin.put("/v1/users/u-auth", new JsonObject().put("email", "a@b.c")).status())
        .as("the admin token works for service calls").isEqualTo(201);
  }

  @Test
  void unknownRoutesAnswerJson404() {
    Api.Response r = app.api.get("/v1/nothing-here");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.errorCode()).isEqualTo("not_found");
  }
}
