package io.creditledger.apikeys;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ApiKeyVaultHttpTest {
  static final String SECRET = "vault-secret-0123456789abcdefghi";
  static final String KEY = "sk-live-abcdefghijklmnopqrstuvwxyz0123456789";
  static final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  static final Level rootLevel = root.getLevel();
  /** Every log line from before the app boots (the field is set when the class loads) until the class is done. */
  static final ListAppender<ILoggingEvent> captured = captureEverything();
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(
      Map.of("API_KEY_ENCRYPTION_SECRET", SECRET, "FREE_GRANT_CREDITS", "0"), started -> app = started);

  static ListAppender<ILoggingEvent> captureEverything() {
    root.setLevel(Level.ALL);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    root.addAppender(appender);
    return appender;
  }

  @BeforeAll
  static void seed() {
    app.user("v-user");
  }

  @AfterAll
  static void release() {
    root.detachAppender(captured);
    root.setLevel(rootLevel);
  }

  @Test
  void storesReadsReplacesAndClearsAKey() {
    app.user("v-crud");
    Api.Response put = app.api.put("/v1/users/v-crud/api-keys/anthropic", new JsonObject().put("apiKey", KEY));
    assertThat(put.status()).as(put.toString()).isEqualTo(201);
    assertThat(put.text()).doesNotContain(KEY);
    assertThat(put.json().getBoolean("stored")).isTrue();

    Api.Response get = app.api.get("/v1/users/v-crud/api-keys/anthropic");
    assertThat(get.status()).isEqualTo(200);
    assertThat(get.json().getString("apiKey")).isEqualTo(KEY);

    assertThat(app.api.put("/v1/users/v-crud/api-keys/anthropic", new JsonObject().put("apiKey", KEY + "-2"))
        .status()).isEqualTo(200);
    assertThat(app.api.get("/v1/users/v-crud/api-keys/anthropic").json().getString("apiKey")).isEqualTo(KEY + "-2");

    Api.Response deleted = app.api.delete("/v1/users/v-crud/api-keys/anthropic");
    assertThat(deleted.status()).isEqualTo(200);
    assertThat(deleted.json().getBoolean("deleted")).isTrue();
    Api.Response gone = app.api.get("/v1/users/v-crud/api-keys/anthropic");
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.errorCode()).isEqualTo("api_key_not_found");
    assertThat(app.api.delete("/v1/users/v-crud/api-keys/anthropic").status()).isEqualTo(404);
  }

  @Test
  void theDatabaseNeverHoldsThePlaintext() {
    app.api.put("/v1/users/v-user/api-keys/openai", new JsonObject().put("apiKey", KEY));
    String stored = app.text("SELECT ciphertext FROM api_keys WHERE user_id = 'v-user' AND key_type = 'openai'");
    assertThat(stored).startsWith("v1:").doesNotContain(KEY);
    assertThat(app.text("SELECT count(*) FROM api_keys WHERE ciphertext LIKE '%" + KEY.substring(0, 12) + "%'"))
        .isEqualTo("0");
  }

  @Test
  void aTamperedRowIsAClearErrorNotGarbage() {
    app.api.put("/v1/users/v-user/api-keys/gemini", new JsonObject().put("apiKey", KEY));
    app.sql("UPDATE api_keys SET ciphertext = ciphertext || 'A' WHERE key_type = 'gemini'");
    app.sql("UPDATE api_keys SET user_id = user_id WHERE key_type = 'gemini'");
    Api.Response r = app.api.get("/v1/users/v-user/api-keys/gemini");
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.errorCode()).isEqualTo("api_key_unreadable");
    assertThat(r.text()).doesNotContain(KEY);
  }

  @Test
  void badRequestsAreClear4xx() {
    Api.Response type = app.api.put("/v1/users/v-user/api-keys/mistral", new JsonObject().put("apiKey", KEY));
    assertThat(type.status()).isEqualTo(400);
    assertThat(type.errorCode()).isEqualTo("unknown_key_type");
    assertThat(app.api.get("/v1/users/v-user/api-keys/mistral").status()).isEqualTo(400);
    assertThat(app.api.put("/v1/users/nobody/api-keys/openai", new JsonObject().put("apiKey", KEY)).errorCode())
        .isEqualTo("user_not_found");
    assertThat(app.api.get("/v1/users/nobody/api-keys/openai").errorCode()).isEqualTo("user_not_found");
    assertThat(app.api.put("/v1/users/v-user/api-keys/openai", new JsonObject()).errorCode()).isEqualTo("missing_field");
    assertThat(app.api.put("/v1/users/v-user/api-keys/openai", new JsonObject().put("apiKey", 42)).status())
        .isEqualTo(400);
    assertThat(app.api.put("/v1/users/v-user/api-keys/openai", new JsonObject().put("apiKey", " padded ")).status())
        .isEqualTo(400);
    assertThat(app.api.put("/v1/users/v-user/api-keys/openai", new JsonObject().put("apiKey", "x".repeat(5000)))
        .status()).isEqualTo(400);
    assertThat(app.api.put("/v1/users/v-user/api-keys/openai", new JsonObject().put("apiKey", KEY).put("owner", "x"))
        .errorCode()).isEqualTo("unknown_field");
    assertThat(app.api.withToken(null).get("/v1/users/v-user/api-keys/openai").status()).isEqualTo(401);
  }

  @Test
  void neitherTheSecretNorAnyKeyIsEverLogged() {
    app.api.put("/v1/users/v-user/api-keys/anthropic", new JsonObject().put("apiKey", KEY + "-logged"));
    app.api.get("/v1/users/v-user/api-keys/anthropic");
    app.api.put("/v1/users/nobody/api-keys/anthropic", new JsonObject().put("apiKey", KEY + "-logged"));
    List<String> lines = new ArrayList<>();
    for (ILoggingEvent e : new ArrayList<>(captured.list)) {
      lines.add(e.getFormattedMessage());
      for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
        lines.add(t.getMessage());
      }
    }
    assertThat(lines).isNotEmpty();
    assertThat(String.join("\n", lines)).doesNotContain(SECRET).doesNotContain(KEY);
    assertThat(app.config.toString()).doesNotContain(SECRET);
  }
}
