package io.creditledger.config;

import io.creditledger.support.ContractCheck;
import io.creditledger.support.MainProcess;
import io.creditledger.support.TestDatabase;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code LOG_FORMAT=json} in the real process: one JSON object per line, the request id in the access lines and in
 * error bodies, and no body, token or key anywhere in the output.
 */
class JsonLogsProcessTest {
  private static final String SERVICE = "service-token-json-logs-01";
  private static final String ADMIN = "admin-token-json-logs-0001";
  private static final String API_KEY = "sk-json-logs-very-secret-key";
  private static final String EMAIL = "json-logs-private@example.com";

  @Test
  void jsonLinesCarryTheRequestIdAndNoSecret(@TempDir Path dir) throws Exception {
    DatabaseUrl db = TestDatabase.fresh();
    Path log = dir.resolve("service.log");
    // the service's own logback.xml: the test classpath also holds the tests' logback-test.xml, which would win
    String config = Path.of("target", "classes", "logback.xml").toAbsolutePath().toString();
    Process p = MainProcess.start(db, Map.of("LOG_FORMAT", "json", "DATA_DIR", dir.toString(),
        "LEDGER_API_TOKEN", SERVICE, "LEDGER_ADMIN_TOKEN", ADMIN,
        "API_KEY_ENCRYPTION_SECRET", "0123456789abcdef0123456789abcdef"), log, "-Dlogback.configurationFile=" + config);
    try {
      int port = MainProcess.awaitPort(p, log);
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> withId = ContractCheck.checked(http.send(request(port, "/v1/users/json-logs")
          .header("X-Request-Id", "req-abc-123").PUT(HttpRequest.BodyPublishers.ofString(
              new JsonObject().put("email", EMAIL).encode())).build(), HttpResponse.BodyHandlers.ofString()));
      assertThat(withId.statusCode()).isEqualTo(201);
      assertThat(withId.headers().firstValue("X-Request-Id")).hasValue("req-abc-123");
      HttpResponse<String> key = ContractCheck.checked(http.send(request(port, "/v1/users/json-logs/api-keys/openai")
          .PUT(HttpRequest.BodyPublishers.ofString(new JsonObject().put("apiKey", API_KEY).encode())).build(),
          HttpResponse.BodyHandlers.ofString()));
      assertThat(key.statusCode()).isEqualTo(201);
      String generated = key.headers().firstValue("X-Request-Id").orElseThrow();
      assertThat(generated).matches("[0-9a-f-]{36}");
      HttpResponse<String> missing = ContractCheck.checked(http.send(request(port, "/v1/users/nobody-here")
          .header("X-Request-Id", "bad id with spaces").GET().build(), HttpResponse.BodyHandlers.ofString()));
      assertThat(missing.statusCode()).isEqualTo(404);
      String missingId = missing.headers().firstValue("X-Request-Id").orElseThrow();
      assertThat(missingId).isNotEqualTo("bad id with spaces");
      assertThat(new JsonObject(missing.body()).getJsonObject("error").getString("requestId")).isEqualTo(missingId);

      p.destroy();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      List<JsonObject> lines = new ArrayList<>();
      for (String line : Files.readAllLines(log)) {
        if (!line.isBlank()) {
          lines.add(new JsonObject(line)); // every line is one JSON object
        }
      }
      JsonObject access = lines.stream().filter(l -> "http.access".equals(l.getString("loggerName"))
          && l.getString("formattedMessage", "").startsWith("PUT /v1/users/json-logs ")).findFirst().orElseThrow();
      assertThat(access.getString("formattedMessage")).endsWith(" rid=req-abc-123");
      assertThat(access.getJsonObject("mdc").getString("requestId")).isEqualTo("req-abc-123");
      assertThat(lines.stream().anyMatch(l -> l.getString("formattedMessage", "").contains("rid=" + generated))).isTrue();
      assertThat(Files.readString(log)).doesNotContain(SERVICE, ADMIN, API_KEY, EMAIL);
    } finally {
      p.destroyForcibly();
    }
  }

  private static HttpRequest.Builder request(int port, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + SERVICE).header("Content-Type", "application/json");
  }
}
