package io.creditledger.stripe;

import com.stripe.exception.ApiConnectionException;
import com.stripe.exception.RateLimitException;
import io.creditledger.config.StripeSettings;
import io.creditledger.domain.OutboxAction;
import io.creditledger.domain.OutboxStatus;
import io.creditledger.support.FakeStripe;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The gateway's transport against the fake Stripe: few connections, reused; failures classified as before. */
class StripeGatewayTest {
  FakeStripe fake;

  @BeforeEach
  void start() {
    fake = FakeStripe.start();
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  StripeGateway gateway(int concurrency, Duration timeout) {
    return new StripeGateway(new StripeSettings("sk_test_gateway", null, fake.baseUrl(), "usd", 1000, 10,
        Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofDays(30), timeout, concurrency,
        Duration.ofSeconds(1), Duration.ofMinutes(5), null));
  }

  static OutboxRow usage(String identifier) {
    JsonObject payload = new JsonObject().put("eventName", "credits").put("customer", "cus_gw").put("value", 1L)
        .put("identifier", identifier).put("timestamp", Instant.now().getEpochSecond());
    return new OutboxRow(1, null, null, "u-gw", OutboxAction.REPORT_USAGE, "ledger-usage-" + identifier, payload,
        OutboxStatus.PENDING, 0, null, null, null, null, Instant.now(), null, null);
  }

  @Test
  void manyCallersShareAtMostConcurrencyConnections() throws Exception {
    int concurrency = 4;
    StripeGateway gateway = gateway(concurrency, Duration.ofSeconds(5));
    fake.latency(10); // calls overlap, so an unbounded client would open a connection for each one in flight
    ExecutorService callers = Executors.newFixedThreadPool(16);
    try {
      List<Future<String>> calls = new ArrayList<>();
      for (int i = 0; i < 400; i++) {
        String identifier = "gw-" + i;
        calls.add(callers.submit(() -> gateway.send(usage(identifier))));
      }
      for (int i = 0; i < calls.size(); i++) {
        assertThat(calls.get(i).get()).isEqualTo("gw-" + i);
      }
    } finally {
      callers.shutdownNow();
    }
    assertThat(fake.meterEvents()).hasSize(400);
    assertThat(fake.connections()).isBetween(1, concurrency);
  }

  @Test
  void aLostAnswerIsOneRequestAndARetryableFailureAndTheResendGetsStripesStoredAnswer() throws Exception {
    StripeGateway gateway = gateway(2, Duration.ofSeconds(5));
    fake.dropNext(1, true);
    // one outbox row, sent twice as the relay would: the same payload (its timestamp included) and key
    OutboxRow row = usage("gw-lost");
    ApiConnectionException lost = catchThrowableOfType(ApiConnectionException.class, () -> gateway.send(row));
    assertThat(StripeGateway.classify(lost).retryable()).isTrue();
    assertThat(fake.requests()).as("no silent resend of a POST").hasSize(1);

    assertThat(gateway.send(row)).isEqualTo("gw-lost");
    assertThat(fake.meterEvents()).hasSize(1);
  }

  @Test
  void aSlowAnswerTimesOutAsARetryableFailure() {
    StripeGateway gateway = gateway(2, Duration.ofMillis(300));
    fake.slowNext(1, 1500);
    ApiConnectionException slow = catchThrowableOfType(ApiConnectionException.class, () -> gateway.send(usage("gw-slow")));
    assertThat(StripeGateway.classify(slow).retryable()).isTrue();
  }

  @Test
  void aRateLimitCarriesItsRetryAfter() {
    StripeGateway gateway = gateway(2, Duration.ofSeconds(5));
    fake.rateLimitNext(1, 7);
    RateLimitException limited = catchThrowableOfType(RateLimitException.class, () -> gateway.send(usage("gw-429")));
    StripeGateway.Failure failure = StripeGateway.classify(limited);
    assertThat(failure.retryable()).isTrue();
    assertThat(failure.retryAfter()).isEqualTo(Duration.ofSeconds(7));
  }
}
