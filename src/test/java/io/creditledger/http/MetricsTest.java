package io.creditledger.http;

import io.creditledger.support.Api;
import io.creditledger.support.Eventually;
import io.creditledger.support.Prometheus;
import io.creditledger.support.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /metrics} after some traffic: Vert.x's own meters (HTTP server, pools, event bus) and the ledger's, each
 * with the value the traffic should have left.
 */
class MetricsTest {
  static final String METRICS_TOKEN = "metrics-token-0123456789";
  static TestApp app;

  @BeforeAll
  static void start() {
    app = TestApp.startInstrumented(Map.of("FREE_GRANT_CREDITS", "0", "METRICS_TOKEN", METRICS_TOKEN,
        "METRICS_POLL_INTERVAL", "PT0.1S"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static String scrape() {
    Api.Response r = app.api.withToken(METRICS_TOKEN).get("/metrics");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("text/plain");
    return r.text();
  }

  @Test
  void theMetersSayWhatTheTrafficDid() {
    app.user("m-a", new JsonObject().put("email", "m@example.com").put("stripeCustomerId", "cus_ma"));
    assertThat(app.grant("m-a", "m-a-g", "purchase", 100).status()).isEqualTo(201); // its mirror waits in the outbox
    Api.Response first = app.consume("m-a", "m-a-1", 30);
    assertThat(first.status()).isEqualTo(200);
    assertThat(app.consume("m-a", "m-a-2", 20).status()).isEqualTo(200);
    assertThat(app.consume("m-a", "m-a-1", 30).json()).isEqualTo(first.json()); // a replay: no credits again
    assertThat(app.consume("m-a", "m-a-3", 1000).status()).isEqualTo(402);
    app.user("m-due");
    app.sql("UPDATE users SET next_quota_reset = '" + app.clock.instant().minus(Duration.ofDays(1))
        + "' WHERE user_id = 'm-due'");
    Eventually.await("the due user counted", Duration.ofSeconds(10),
        () -> Double.valueOf(1).equals(Prometheus.value(scrape(), "reset_due_users")));
    assertThat(app.admin.get("/v1/admin/audit").json().getBoolean("ok")).isTrue();
    assertThat(app.admin.post("/v1/admin/resets/run", new JsonObject()).json().getInteger("reset")).isEqualTo(1);

    Eventually.await("the database gauges", Duration.ofSeconds(10), () -> {
      String text = scrape();
      return Double.valueOf(0).equals(Prometheus.value(text, "reset_due_users"))
          && Double.valueOf(1).equals(Prometheus.value(text, "outbox_rows{status=\"pending\"}"));
    });
    String text = scrape();
    assertThat(Prometheus.value(text, "ledger_operations_total{op=\"consume\",outcome=\"ok\"}")).isEqualTo(3.0);
    assertThat(Prometheus.value(text, "ledger_operations_total{op=\"consume\",outcome=\"refused\"}")).isEqualTo(1.0);
    assertThat(Prometheus.value(text, "ledger_operations_total{op=\"grant\",outcome=\"ok\"}")).isEqualTo(1.0);
    assertThat(Prometheus.value(text, "ledger_operations_total{op=\"reset\",outcome=\"ok\"}")).isEqualTo(1.0);
    assertThat(Prometheus.value(text, "ledger_credits_consumed_total")).isEqualTo(50.0);
    assertThat(Prometheus.value(text, "ledger_transaction_retries_total")).isEqualTo(0.0);
    assertThat(Prometheus.value(text, "outbox_rows{status=\"dead\"}")).isEqualTo(0.0);
    assertThat(Prometheus.value(text, "outbox_oldest_pending_seconds")).isNotNull().isGreaterThanOrEqualTo(0.0);
    assertThat(Prometheus.value(text, "stripe_requests_total{outcome=\"delivered\"}")).isEqualTo(0.0);
    assertThat(Prometheus.value(text, "reset_duration_seconds_count")).isEqualTo(1.0);
    assertThat(Prometheus.value(text, "audit_problems")).isEqualTo(0.0);
    // Vert.x's own: the HTTP server, the SQL pools, the event bus
    assertThat(text).contains("vertx_http_server_requests_total{", "code=\"402\"", "vertx_pool_", "pool_type=\"sql\"",
        "vertx_eventbus_");
  }

  @Test
  void onlyTheAdminTokenOrAMetricsTokenReadsThem() {
    assertThat(app.api.withToken(null).get("/metrics").status()).isEqualTo(401);
    assertThat(app.api.get("/metrics").status()).as("the service token").isEqualTo(401);
    assertThat(app.admin.get("/metrics").status()).isEqualTo(200);
    assertThat(app.api.withToken(METRICS_TOKEN).get("/metrics").status()).isEqualTo(200);
    assertThat(app.api.withToken(METRICS_TOKEN).get("/v1/users/m-a").status())
        .as("a metrics token opens nothing else").isEqualTo(401);
  }
}
