package io.creditledger.support;

import com.stripe.StripeClient;
import com.stripe.exception.ApiConnectionException;
import com.stripe.exception.ApiException;
import com.stripe.exception.AuthenticationException;
import com.stripe.exception.CardException;
import com.stripe.exception.IdempotencyException;
import com.stripe.exception.InvalidRequestException;
import com.stripe.exception.RateLimitException;
import com.stripe.exception.StripeException;
import com.stripe.model.PaymentIntent;
import com.stripe.model.StripeCollection;
import com.stripe.model.billing.CreditGrant;
import com.stripe.model.billing.MeterEvent;
import com.stripe.net.RequestOptions;
import com.stripe.param.PaymentIntentCreateParams;
import com.stripe.param.PaymentIntentCreateParams.AutomaticPaymentMethods;
import com.stripe.param.billing.CreditGrantCreateParams;
import com.stripe.param.billing.CreditGrantCreateParams.Amount;
import com.stripe.param.billing.CreditGrantCreateParams.ApplicabilityConfig;
import com.stripe.param.billing.CreditGrantCreateParams.Category;
import com.stripe.param.billing.CreditGrantListParams;
import com.stripe.param.billing.CreditGrantUpdateParams;
import com.stripe.param.billing.MeterEventCreateParams;
import io.vertx.core.json.JsonObject;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Drives {@link FakeStripe} with the real stripe-java client, as the ledger's Stripe mirror will. */
class FakeStripeTest {
  /** For the call that must time out; everything else gets a roomy timeout so a cold JVM cannot flake it. */
  private static final int SHORT_READ_TIMEOUT_MS = 400;
  private static final int READ_TIMEOUT_MS = 3000;
  /** The keys of resources."billing.credit_grant" in Stripe's fixtures (src/test/resources/stripe/fixtures.json). */
  private static final Set<String> FIXTURE_KEYS = Set.of("amount", "applicability_config", "category", "created",
      "customer", "effective_at", "expires_at", "id", "livemode", "metadata", "name", "object", "test_clock",
      "updated", "voided_at", "customer_account", "priority");

  private FakeStripe fake;
  private StripeClient client;

  @BeforeEach
  void start() {
    fake = FakeStripe.start();
    client = client("sk_test_fake", READ_TIMEOUT_MS);
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  /** Restarts the fake on {@code clock}, for tests that move time. */
  private void restartWith(MutableClock clock) {
    fake.close();
    fake = FakeStripe.start(clock);
    client = client("sk_test_fake", READ_TIMEOUT_MS);
  }

  private StripeClient client(String apiKey, int readTimeoutMs) {
    return StripeClient.builder()
        .setApiKey(apiKey)
        .setApiBase(fake.baseUrl())
        .setMaxNetworkRetries(0)
        .setConnectTimeout(2000)
        .setReadTimeout(readTimeoutMs)
        .build();
  }

  private static CreditGrantCreateParams.Builder params(String customer, long cents, Category category) {
    return CreditGrantCreateParams.builder()
        .setCustomer(customer)
        .setAmount(Amount.builder()
            .setType(Amount.Type.MONETARY)
            .setMonetary(Amount.Monetary.builder().setValue(cents).setCurrency("usd").build())
            .build())
        .setApplicabilityConfig(ApplicabilityConfig.builder()
            .setScope(ApplicabilityConfig.Scope.builder()
                .setPriceType(ApplicabilityConfig.Scope.PriceType.METERED)
                .build())
            .build())
        .setCategory(category);
  }

  private CreditGrant create(CreditGrantCreateParams params, String idempotencyKey) throws StripeException {
    return create(client, params, idempotencyKey);
  }

  private static CreditGrant create(StripeClient client, CreditGrantCreateParams params, String idempotencyKey)
      throws StripeException {
    return client.v1().billing().creditGrants()
        .create(params, RequestOptions.builder().setIdempotencyKey(idempotencyKey).build());
  }

  private static String header(CreditGrant grant, String name) {
    return grant.getLastResponse().headers().firstValue(name).orElse(null);
  }

  @Test
  void createsAGrantShapedLikeStripes() throws Exception {
    long before = Instant.now().getEpochSecond();
    CreditGrant grant = create(params("cus_1", 1000, Category.PAID)
        .setPriority(80L)
        .setExpiresAt(1_900_000_000L)
        .setName("Purchase op-1")
        .putMetadata("operationId", "op-1")
        .putMetadata("userId", "alice")
        .build(), "k-create");

    assertThat(grant.getId()).matches("credgr_[A-Za-z0-9]{24}");
    assertThat(grant.getObject()).isEqualTo("billing.credit_grant");
    assertThat(grant.getAmount().getType()).isEqualTo("monetary");
    assertThat(grant.getAmount().getMonetary().getValue()).isEqualTo(1000L);
    assertThat(grant.getAmount().getMonetary().getCurrency()).isEqualTo("usd");
    assertThat(grant.getCategory()).isEqualTo("paid");
    assertThat(grant.getPriority()).isEqualTo(80L);
    assertThat(grant.getExpiresAt()).isEqualTo(1_900_000_000L);
    assertThat(grant.getName()).isEqualTo("Purchase op-1");
    assertThat(grant.getMetadata()).containsExactlyInAnyOrderEntriesOf(Map.of("operationId", "op-1", "userId", "alice"));
    assertThat(grant.getCustomer()).isEqualTo("cus_1");
    assertThat(grant.getApplicabilityConfig().getScope().getPriceType()).isEqualTo("metered");
    assertThat(grant.getLivemode()).isFalse();
    assertThat(grant.getVoidedAt()).isNull();
    assertThat(grant.getTestClock()).isNull();
    assertThat(grant.getCustomerAccount()).isNull();
    assertThat(grant.getCreated()).isBetween(before, Instant.now().getEpochSecond());
    assertThat(grant.getEffectiveAt()).isEqualTo(grant.getCreated());
    assertThat(grant.getUpdated()).isEqualTo(grant.getCreated());
    assertThat(grant.getLastResponse().requestId()).matches("req_[A-Za-z0-9]+");
    assertThat(header(grant, "Content-Type")).isEqualTo("application/json");
    assertThat(header(grant, "Idempotent-Replayed")).isNull();

    JsonObject stored = fake.creditGrant(grant.getId());
    assertThat(stored.fieldNames()).containsExactlyInAnyOrderElementsOf(FIXTURE_KEYS);
    assertThat(stored.getValue("customer")).isEqualTo("cus_1");
    assertThat(stored.getJsonObject("amount").getJsonObject("monetary").getValue("value")).isEqualTo(1000L);
    assertThat(stored.getValue("priority")).isEqualTo(80L);
    assertThat(stored.getValue("expires_at")).isEqualTo(1_900_000_000L);
    assertThat(stored.getValue("created")).isInstanceOf(Long.class);
    assertThat(fake.creditGrants()).extracting(g -> g.getString("id")).containsExactly(grant.getId());
    assertThat(fake.createCount("k-create")).isEqualTo(1);

    // what went over the wire: stripe-java's bracketed form, decoded; numbers stay strings in the form
    assertThat(fake.requests()).hasSize(1);
    FakeStripe.Recorded request = fake.requests().get(0);
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.path()).isEqualTo("/v1/billing/credit_grants");
    assertThat(request.idempotencyKey()).isEqualTo("k-create");
    assertThat(request.status()).isEqualTo(200);
    assertThat(request.params().getJsonObject("amount").getJsonObject("monetary").getValue("value")).isEqualTo("1000");
    assertThat(request.params().getJsonObject("amount").getString("type")).isEqualTo("monetary");
    assertThat(request.params().getJsonObject("applicability_config").getJsonObject("scope").getString("price_type"))
        .isEqualTo("metered");
    assertThat(request.params().getValue("priority")).isEqualTo("80");
    assertThat(request.params().getValue("expires_at")).isEqualTo("1900000000");
    assertThat(request.params().getJsonObject("metadata").getString("operationId")).isEqualTo("op-1");
  }

  @Test
  void optionalFieldsDefaultLikeStripe() throws Exception {
    CreditGrant grant = create(params("cus_1", 250, Category.PROMOTIONAL).build(), "k-defaults");

    assertThat(grant.getExpiresAt()).isNull();
    assertThat(grant.getName()).isNull();
    assertThat(grant.getPriority()).isEqualTo(50L);
    assertThat(grant.getCategory()).isEqualTo("promotional");
    assertThat(grant.getMetadata()).isEmpty();
    JsonObject stored = fake.creditGrant(grant.getId());
    assertThat(stored.fieldNames()).containsExactlyInAnyOrderElementsOf(FIXTURE_KEYS);
    assertThat(stored.containsKey("expires_at")).isTrue();
    assertThat(stored.getValue("expires_at")).isNull();
  }

  @Test
  void voidsAndRetrieves() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-15T10:00:00Z"));
    fake.close();
    fake = FakeStripe.start(clock);
    client = client("sk_test_fake", READ_TIMEOUT_MS);

    CreditGrant grant = create(params("cus_1", 1000, Category.PAID).build(), "k-void");
    clock.advance(Duration.ofMinutes(5));
    CreditGrant voided = client.v1().billing().creditGrants().voidGrant(grant.getId());
    long voidedAt = Instant.parse("2026-01-15T10:05:00Z").getEpochSecond();
    assertThat(voided.getId()).isEqualTo(grant.getId());
    assertThat(voided.getVoidedAt()).isEqualTo(voidedAt);
    assertThat(voided.getUpdated()).isEqualTo(voidedAt);
    assertThat(fake.creditGrant(grant.getId()).getValue("voided_at")).isEqualTo(voidedAt);
    assertThat(fake.requests().get(1).path()).isEqualTo("/v1/billing/credit_grants/" + grant.getId() + "/void");

    clock.advance(Duration.ofMinutes(5));
    CreditGrant again = client.v1().billing().creditGrants().voidGrant(grant.getId());
    assertThat(again.getVoidedAt()).isEqualTo(voidedAt);

    CreditGrant retrieved = client.v1().billing().creditGrants().retrieve(grant.getId());
    assertThat(retrieved.getId()).isEqualTo(grant.getId());
    assertThat(retrieved.getVoidedAt()).isEqualTo(voidedAt);
    assertThat(retrieved.getAmount().getMonetary().getValue()).isEqualTo(1000L);
    assertThat(fake.creditGrants()).hasSize(1);
  }

  @Test
  void unknownIdsAre404ResourceMissing() {
    InvalidRequestException retrieve = thrown(InvalidRequestException.class,
        () -> client.v1().billing().creditGrants().retrieve("credgr_nope"));
    assertThat(retrieve.getStatusCode()).isEqualTo(404);
    assertThat(retrieve.getCode()).isEqualTo("resource_missing");
    assertThat(retrieve.getParam()).isEqualTo("id");
    assertThat(retrieve.getStripeError().getMessage()).isEqualTo("No such credit grant: 'credgr_nope'");
    assertThat(retrieve.getRequestId()).startsWith("req_");

    InvalidRequestException voiding = thrown(InvalidRequestException.class,
        () -> client.v1().billing().creditGrants().voidGrant("credgr_nope"));
    assertThat(voiding.getStatusCode()).isEqualTo(404);
    assertThat(voiding.getCode()).isEqualTo("resource_missing");

    InvalidRequestException intent = thrown(InvalidRequestException.class,
        () -> client.v1().paymentIntents().retrieve("pi_nope"));
    assertThat(intent.getStatusCode()).isEqualTo(404);
    assertThat(intent.getStripeError().getMessage()).isEqualTo("No such payment_intent: 'pi_nope'");
  }

  @Test
  void listsACustomersGrantsNewestFirst() throws Exception {
    String a1 = create(params("cus_a", 100, Category.PAID).build(), "k-a1").getId();
    String b1 = create(params("cus_b", 200, Category.PAID).build(), "k-b1").getId();
    String a2 = create(params("cus_a", 300, Category.PROMOTIONAL).build(), "k-a2").getId();

    StripeCollection<CreditGrant> list = client.v1().billing().creditGrants()
        .list(CreditGrantListParams.builder().setCustomer("cus_a").build());
    assertThat(list.getData()).extracting(CreditGrant::getId).containsExactly(a2, a1);
    assertThat(list.getHasMore()).isFalse();
    assertThat(list.getUrl()).isEqualTo("/v1/billing/credit_grants");
    assertThat(fake.requests().get(3).params().getString("customer")).isEqualTo("cus_a");

    StripeCollection<CreditGrant> onlyB = client.v1().billing().creditGrants()
        .list(CreditGrantListParams.builder().setCustomer("cus_b").build());
    assertThat(onlyB.getData()).extracting(CreditGrant::getId).containsExactly(b1);
  }

  @Test
  void missingRequiredParamsAre400AndStoreNothing() throws Exception {
    CreditGrantCreateParams full = params("cus_1", 1000, Category.PAID).build();
    List<String> missingParams = new ArrayList<>();
    List<Consumer<CreditGrantCreateParams.Builder>> drops = List.of(
        b -> b.setCustomer(null), b -> b.setAmount(null), b -> b.setCategory(null), b -> b.setApplicabilityConfig(null));
    for (Consumer<CreditGrantCreateParams.Builder> drop : drops) {
      CreditGrantCreateParams.Builder builder = params("cus_1", 1000, Category.PAID);
      drop.accept(builder);
      InvalidRequestException e = thrown(InvalidRequestException.class,
          () -> create(builder.build(), "k-invalid"));
      assertThat(e.getStatusCode()).isEqualTo(400);
      assertThat(e.getCode()).isEqualTo("parameter_missing");
      missingParams.add(e.getParam());
    }
    assertThat(missingParams).containsExactly("customer", "amount", "category", "applicability_config");
    assertThat(fake.creditGrants()).isEmpty();

    // a validation failure is not kept as the key's result: the corrected request goes through
    CreditGrant grant = create(full, "k-invalid");
    assertThat(header(grant, "Idempotent-Replayed")).isNull();
    assertThat(fake.createCount("k-invalid")).isEqualTo(1);

    InvalidRequestException unknown = thrown(InvalidRequestException.class,
        () -> create(params("cus_1", 1000, Category.PAID).putExtraParam("colour", "red").build(), "k-unknown"));
    assertThat(unknown.getCode()).isEqualTo("parameter_unknown");
    assertThat(unknown.getParam()).isEqualTo("colour");
  }

  @Test
  void replayingAKeyReturnsTheFirstResultAndCreatesNothing() throws Exception {
    CreditGrantCreateParams p = params("cus_1", 1000, Category.PAID).putMetadata("operationId", "op-1").build();
    CreditGrant first = create(p, "k-replay");
    CreditGrant second = create(p, "k-replay");
    CreditGrant third = create(p, "k-replay");

    assertThat(second.getId()).isEqualTo(first.getId());
    assertThat(third.getId()).isEqualTo(first.getId());
    assertThat(header(first, "Idempotent-Replayed")).isNull();
    assertThat(header(second, "Idempotent-Replayed")).isEqualTo("true");
    assertThat(header(second, "Original-Request")).isEqualTo(first.getLastResponse().requestId());
    assertThat(second.getLastResponse().requestId()).isNotEqualTo(first.getLastResponse().requestId());
    assertThat(fake.createCount("k-replay")).isEqualTo(1);
    assertThat(fake.creditGrants()).hasSize(1);
    assertThat(fake.requests()).extracting(FakeStripe.Recorded::status).containsExactly(200, 200, 200);
  }

  @Test
  void reusingAKeyWithOtherParamsIsAnIdempotencyError() throws Exception {
    CreditGrant first = create(params("cus_1", 1000, Category.PAID).build(), "k-conflict");
    IdempotencyException e = thrown(IdempotencyException.class,
        () -> create(params("cus_1", 2000, Category.PAID).build(), "k-conflict"));
    assertThat(e.getStatusCode()).isEqualTo(400);
    assertThat(e.getStripeError().getType()).isEqualTo("idempotency_error");
    assertThat(fake.createCount("k-conflict")).isEqualTo(1);
    assertThat(fake.creditGrants()).extracting(g -> g.getString("id")).containsExactly(first.getId());
  }

  @Test
  void failNextAnswersUnprocessedErrors() throws Exception {
    fake.failNext(1, 500);
    ApiException e = thrown(ApiException.class,
        () -> create(params("cus_1", 1000, Category.PAID).build(), "k-fail"));
    assertThat(e).isExactlyInstanceOf(ApiException.class);
    assertThat(e.getStatusCode()).isEqualTo(500);
    assertThat(e.getStripeError().getType()).isEqualTo("api_error");
    assertThat(fake.creditGrants()).isEmpty();
    assertThat(fake.createCount("k-fail")).isZero();
    assertThat(fake.requests()).extracting(FakeStripe.Recorded::status).containsExactly(500);

    // nothing was stored under the key, so the retry really creates (not a replay)
    CreditGrant retried = create(params("cus_1", 1000, Category.PAID).build(), "k-fail");
    assertThat(header(retried, "Idempotent-Replayed")).isNull();
    assertThat(fake.createCount("k-fail")).isEqualTo(1);

    fake.failNext(2, 503);
    for (int i = 0; i < 2; i++) {
      ApiException unavailable = thrown(ApiException.class,
          () -> client.v1().billing().creditGrants().retrieve(retried.getId()));
      assertThat(unavailable.getStatusCode()).isEqualTo(503);
    }
    assertThat(client.v1().billing().creditGrants().retrieve(retried.getId()).getId()).isEqualTo(retried.getId());
  }

  @Test
  void rateLimitCarriesRetryAfter() throws Exception {
    fake.rateLimitNext(1, 7);
    RateLimitException e = thrown(RateLimitException.class,
        () -> create(params("cus_1", 1000, Category.PAID).build(), "k-429"));
    assertThat(e.getStatusCode()).isEqualTo(429);
    assertThat(e.getStripeError().getType()).isEqualTo("rate_limit_error");
    // stripe-java 33 has no header accessor on StripeException itself; the parsed error object keeps the
    // HTTP response: e.getStripeError().getLastResponse().headers().firstValue("Retry-After") (Optional<String>,
    // header names matched case-insensitively). getStripeError() is null for ApiConnectionException.
    assertThat(e.getStripeError().getLastResponse().headers().firstValue("Retry-After")).contains("7");
    assertThat(e.getStripeError().getLastResponse().code()).isEqualTo(429);
    assertThat(fake.creditGrants()).isEmpty();
    assertThat(fake.createCount("k-429")).isZero();

    assertThat(create(params("cus_1", 1000, Category.PAID).build(), "k-429").getId()).startsWith("credgr_");
    assertThat(fake.createCount("k-429")).isEqualTo(1);
  }

  @Test
  void slowAnswerTimesOutButTheGrantExistsAndTheRetryReplaysIt() throws Exception {
    fake.slowNext(1, 1500);
    CreditGrantCreateParams p = params("cus_1", 1000, Category.PAID).build();
    StripeClient impatient = client("sk_test_fake", SHORT_READ_TIMEOUT_MS);
    long started = System.nanoTime();
    ApiConnectionException e = thrown(ApiConnectionException.class, () -> create(impatient, p, "k-slow"));
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(1400));
    assertThat(e.getCause()).isInstanceOf(java.net.SocketTimeoutException.class);
    assertThat(fake.createCount("k-slow")).isEqualTo(1);
    assertThat(fake.creditGrants()).hasSize(1);
    String createdId = fake.creditGrants().get(0).getString("id");

    CreditGrant retried = create(p, "k-slow");
    assertThat(retried.getId()).isEqualTo(createdId);
    assertThat(header(retried, "Idempotent-Replayed")).isEqualTo("true");
    assertThat(fake.createCount("k-slow")).isEqualTo(1);
    assertThat(fake.creditGrants()).hasSize(1);

    // a slow answer inside the read timeout simply arrives late
    fake.slowNext(1, 150);
    started = System.nanoTime();
    client.v1().billing().creditGrants().retrieve(createdId);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(150));
  }

  @Test
  void droppedConnectionAfterProcessingLeavesTheGrantForTheRetry() throws Exception {
    // two entries: HttpURLConnection silently re-sends a request whose connection closed without an answer
    fake.dropNext(2, true);
    CreditGrantCreateParams p = params("cus_1", 1000, Category.PAID).build();
    thrown(ApiConnectionException.class, () -> create(p, "k-drop"));
    assertThat(fake.requests()).extracting(FakeStripe.Recorded::status).containsExactly(0, 0);
    assertThat(fake.requests()).extracting(FakeStripe.Recorded::idempotencyKey).containsOnly("k-drop");
    assertThat(fake.createCount("k-drop")).isEqualTo(1);
    String createdId = fake.creditGrants().get(0).getString("id");

    CreditGrant retried = create(p, "k-drop");
    assertThat(retried.getId()).isEqualTo(createdId);
    assertThat(header(retried, "Idempotent-Replayed")).isEqualTo("true");
    assertThat(fake.createCount("k-drop")).isEqualTo(1);
    assertThat(fake.creditGrants()).hasSize(1);
  }

  @Test
  void droppedConnectionBeforeProcessingCreatesNothing() throws Exception {
    fake.dropNext(2, false);
    thrown(ApiConnectionException.class,
        () -> create(params("cus_1", 1000, Category.PAID).build(), "k-drop-early"));
    assertThat(fake.createCount("k-drop-early")).isZero();
    assertThat(fake.creditGrants()).isEmpty();
  }

  @Test
  void aSingleDropIsHiddenByTheJdkResend() throws Exception {
    fake.dropNext(1, false);
    CreditGrant grant = create(params("cus_1", 1000, Category.PAID).build(), "k-one-drop");
    assertThat(grant.getId()).startsWith("credgr_");
    assertThat(fake.requests()).extracting(FakeStripe.Recorded::status).containsExactly(0, 200);
    assertThat(fake.requests()).extracting(FakeStripe.Recorded::idempotencyKey).containsOnly("k-one-drop");
  }

  @Test
  void outageAnswers503UntilOff() throws Exception {
    CreditGrant grant = create(params("cus_1", 1000, Category.PAID).build(), "k-before-outage");
    fake.failNext(1, 502);
    fake.outage(true);
    for (int i = 0; i < 3; i++) {
      ApiException e = thrown(ApiException.class,
          () -> create(params("cus_1", 500, Category.PAID).build(), "k-outage"));
      assertThat(e.getStatusCode()).isEqualTo(503);
    }
    ApiException read = thrown(ApiException.class,
        () -> client.v1().billing().creditGrants().retrieve(grant.getId()));
    assertThat(read.getStatusCode()).isEqualTo(503);
    assertThat(fake.createCount("k-outage")).isZero();
    assertThat(fake.creditGrants()).hasSize(1);

    fake.outage(false);
    // the queued fault waited for the outage to end
    ApiException queued = thrown(ApiException.class,
        () -> client.v1().billing().creditGrants().retrieve(grant.getId()));
    assertThat(queued.getStatusCode()).isEqualTo(502);
    assertThat(create(params("cus_1", 500, Category.PAID).build(), "k-outage").getId()).startsWith("credgr_");
    assertThat(fake.createCount("k-outage")).isEqualTo(1);
  }

  @Test
  void queuedFaultsApplyInOrderAndClearFaultsRemovesThem() throws Exception {
    String id = create(params("cus_1", 1000, Category.PAID).build(), "k-order").getId();
    fake.failNext(1, 500);
    fake.rateLimitNext(1, 1);
    assertThat(thrown(ApiException.class,
        () -> client.v1().billing().creditGrants().retrieve(id)).getStatusCode()).isEqualTo(500);
    assertThat(thrown(RateLimitException.class,
        () -> client.v1().billing().creditGrants().retrieve(id)).getStatusCode()).isEqualTo(429);
    assertThat(client.v1().billing().creditGrants().retrieve(id).getId()).isEqualTo(id);

    fake.failNext(5, 500);
    fake.outage(true);
    fake.randomFaults(1.0, 0, 0, 1);
    fake.clearFaults();
    assertThat(client.v1().billing().creditGrants().retrieve(id).getId()).isEqualTo(id);
  }

  @Test
  void randomFaultsAreSeededAndCanBeTurnedOff() throws Exception {
    fake.putPaymentIntent(new JsonObject().put("id", "pi_r").put("object", "payment_intent").put("amount", 1));
    fake.randomFaults(0.5, 0, 0, 42);
    List<Boolean> firstRun = outcomes(30);
    fake.randomFaults(0.5, 0, 0, 42);
    List<Boolean> secondRun = outcomes(30);
    assertThat(firstRun).contains(true, false);
    assertThat(secondRun).isEqualTo(firstRun);
    assertThat(fake.requests()).extracting(FakeStripe.Recorded::status).containsOnly(200, 500);

    fake.randomFaults(0, 0, 0, 0);
    assertThat(outcomes(10)).containsOnly(true);

    fake.randomFaults(1.0, 0, 0, 7);
    ApiException e = thrown(ApiException.class,
        () -> create(params("cus_1", 1000, Category.PAID).build(), "k-random"));
    assertThat(e.getStatusCode()).isEqualTo(500);
    assertThat(fake.createCount("k-random")).isZero();

    fake.randomFaults(0, 1.0, 150, 7);
    long started = System.nanoTime();
    assertThat(create(params("cus_1", 1000, Category.PAID).build(), "k-random").getId()).startsWith("credgr_");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(150));
    assertThat(fake.createCount("k-random")).isEqualTo(1);
  }

  private List<Boolean> outcomes(int n) {
    List<Boolean> outcomes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      try {
        client.v1().paymentIntents().retrieve("pi_r");
        outcomes.add(true);
      } catch (ApiException e) {
        outcomes.add(false);
      } catch (StripeException e) {
        throw new AssertionError(e);
      }
    }
    return outcomes;
  }

  @Test
  void latencyDelaysEveryAnswer() throws Exception {
    fake.putPaymentIntent(new JsonObject().put("id", "pi_l").put("object", "payment_intent"));
    fake.latency(200);
    long started = System.nanoTime();
    client.v1().paymentIntents().retrieve("pi_l");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
  }

  @Test
  void retrievesStoredPaymentIntents() throws Exception {
    fake.putPaymentIntent(new JsonObject()
        .put("id", "pi_123")
        .put("object", "payment_intent")
        .put("amount", 2000)
        .put("currency", "usd")
        .put("status", "succeeded")
        .put("customer", "cus_1")
        .put("metadata", new JsonObject().put("operationId", "order-1001")));
    PaymentIntent intent = client.v1().paymentIntents().retrieve("pi_123");
    assertThat(intent.getId()).isEqualTo("pi_123");
    assertThat(intent.getAmount()).isEqualTo(2000L);
    assertThat(intent.getCurrency()).isEqualTo("usd");
    assertThat(intent.getStatus()).isEqualTo("succeeded");
    assertThat(intent.getCustomer()).isEqualTo("cus_1");
    assertThat(intent.getMetadata()).containsEntry("operationId", "order-1001");
    assertThat(fake.requests().get(0).path()).isEqualTo("/v1/payment_intents/pi_123");
  }

  @Test
  void requiresASecretKey() throws Exception {
    AuthenticationException e = thrown(AuthenticationException.class,
        () -> create(client("pk_test_publishable", READ_TIMEOUT_MS), params("cus_1", 1000, Category.PAID).build(), "k-auth"));
    assertThat(e.getStatusCode()).isEqualTo(401);
    assertThat(e.getStripeError().getType()).isEqualTo("invalid_request_error");
    assertThat(fake.creditGrants()).isEmpty();

    HttpResponse<String> anonymous = raw(HttpRequest.newBuilder(URI.create(fake.baseUrl() + "/v1/billing/credit_grants?customer=cus_1")).GET());
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(anonymous.body()).getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");
  }

  @Test
  void rawHttpDetails() throws Exception {
    HttpResponse<String> unknown = raw(HttpRequest.newBuilder(URI.create(fake.baseUrl() + "/v1/charges/ch_1"))
        .header("Authorization", "Bearer sk_test_fake").GET());
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.headers().firstValue("Content-Type")).contains("application/json");
    assertThat(unknown.headers().firstValue("Request-Id").orElseThrow()).matches("req_[A-Za-z0-9]+");
    assertThat(new JsonObject(unknown.body()).getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");

    String form = "customer=cus_raw&amount[type]=monetary&amount[monetary][value]=1234&amount[monetary][currency]=usd"
        + "&applicability_config[scope][price_type]=metered&category=paid&priority=10&expires_at=1800000000"
        + "&metadata[operationId]=op-raw";
    HttpResponse<String> created = raw(HttpRequest.newBuilder(URI.create(fake.baseUrl() + "/v1/billing/credit_grants"))
        .header("Authorization", "Bearer sk_test_fake")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Idempotency-Key", "k-raw")
        .POST(HttpRequest.BodyPublishers.ofString(form.replace("[", "%5B").replace("]", "%5D"))));
    assertThat(created.statusCode()).isEqualTo(200);
    assertThat(created.headers().firstValue("Idempotency-Key")).contains("k-raw");
    JsonObject body = new JsonObject(created.body());
    assertThat(body.getJsonObject("amount").getJsonObject("monetary").getValue("value")).isInstanceOf(Number.class);
    assertThat(body.getValue("priority")).isInstanceOf(Number.class);
    assertThat(body.getValue("expires_at")).isInstanceOf(Number.class);
    assertThat(body.getValue("customer")).isEqualTo("cus_raw");
    assertThat(body.getJsonObject("metadata").getString("operationId")).isEqualTo("op-raw");
  }

  @Test
  void expiresAndUpdates() throws Exception {
    CreditGrant grant = create(params("cus_1", 1000, Category.PAID).putMetadata("a", "1").build(), "k-extra");
    CreditGrant updated = client.v1().billing().creditGrants().update(grant.getId(),
        CreditGrantUpdateParams.builder().putMetadata("b", "2").build());
    assertThat(updated.getMetadata()).containsExactlyInAnyOrderEntriesOf(Map.of("a", "1", "b", "2"));
    CreditGrant expired = client.v1().billing().creditGrants().expire(grant.getId());
    assertThat(expired.getExpiresAt()).isBetween(grant.getCreated(), Instant.now().getEpochSecond());
    assertThat(fake.creditGrant(grant.getId()).getValue("expires_at")).isEqualTo(expired.getExpiresAt());
  }

  // ---- listing --------------------------------------------------------------------------------------------

  /** A credit grant as a person would make it in the Dashboard, for {@link FakeStripe#putCreditGrant}. */
  private static JsonObject dashboardGrant(String customer, long cents) {
    return new JsonObject()
        .put("customer", customer)
        .put("amount", new JsonObject()
            .put("type", "monetary")
            .put("monetary", new JsonObject().put("currency", "usd").put("value", cents)));
  }

  private static CreditGrantListParams.Builder listOf(String customer) {
    return CreditGrantListParams.builder().setCustomer(customer);
  }

  private StripeCollection<CreditGrant> list(CreditGrantListParams params) throws StripeException {
    return client.v1().billing().creditGrants().list(params);
  }

  @Test
  void autoPagingWalksMoreThanAHundredGrantsNewestFirst() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-03-01T00:00:00Z"));
    restartWith(clock);
    List<String> newestFirst = new ArrayList<>();
    for (int i = 0; i < 230; i++) {
      if (i % 3 == 0) {
        clock.advance(Duration.ofSeconds(1)); // three grants a second: equal `created`, ordered by creation
      }
      newestFirst.add(0, fake.putCreditGrant(dashboardGrant("cus_many", 100 + i)).getString("id"));
      if (i % 10 == 0) {
        fake.putCreditGrant(dashboardGrant("cus_other", 1));
      }
    }
    // a grant dated back sorts by its `created`, not by when it was stored
    String backdated = fake.putCreditGrant(dashboardGrant("cus_many", 5)
        .put("created", Instant.parse("2026-02-01T00:00:00Z").getEpochSecond())).getString("id");
    newestFirst.add(backdated);

    List<String> walked = new ArrayList<>();
    for (CreditGrant grant : list(listOf("cus_many").setLimit(100L).build()).autoPagingIterable()) {
      walked.add(grant.getId());
    }
    assertThat(walked).containsExactlyElementsOf(newestFirst);
    List<FakeStripe.Recorded> pages = fake.requests();
    assertThat(pages).hasSize(3);
    assertThat(pages).extracting(FakeStripe.Recorded::path).containsOnly("/v1/billing/credit_grants");
    assertThat(pages.get(0).params().containsKey("starting_after")).isFalse();
    assertThat(pages.get(1).params().getString("starting_after")).isEqualTo(newestFirst.get(99));
    assertThat(pages.get(2).params().getString("starting_after")).isEqualTo(newestFirst.get(199));
    assertThat(pages.get(2).params().getString("limit")).isEqualTo("100");

    StripeCollection<CreditGrant> byDefault = list(listOf("cus_many").build());
    assertThat(byDefault.getData()).extracting(CreditGrant::getId).containsExactlyElementsOf(newestFirst.subList(0, 10));
    assertThat(byDefault.getHasMore()).isTrue();
  }

  @Test
  void smallPagesGoForwardWithStartingAfterAndBackWithEndingBefore() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-03-01T00:00:00Z"));
    restartWith(clock);
    String g1 = create(params("cus_p", 100, Category.PAID).build(), "k-p1").getId();
    String g2 = create(params("cus_p", 200, Category.PAID).build(), "k-p2").getId();
    clock.advance(Duration.ofSeconds(30));
    String g3 = create(params("cus_p", 300, Category.PAID).build(), "k-p3").getId();
    String g4 = create(params("cus_p", 400, Category.PAID).build(), "k-p4").getId();
    String g5 = create(params("cus_p", 500, Category.PAID).build(), "k-p5").getId();
    client.v1().billing().creditGrants().voidGrant(g3);

    StripeCollection<CreditGrant> page1 = list(listOf("cus_p").setLimit(2L).build());
    assertThat(page1.getData()).extracting(CreditGrant::getId).containsExactly(g5, g4);
    assertThat(page1.getHasMore()).isTrue();
    StripeCollection<CreditGrant> page2 = list(listOf("cus_p").setLimit(2L).setStartingAfter(g4).build());
    assertThat(page2.getData()).extracting(CreditGrant::getId).containsExactly(g3, g2);
    assertThat(page2.getHasMore()).isTrue();
    // voided grants stay in the list, with voided_at
    assertThat(page2.getData().get(0).getVoidedAt()).isEqualTo(clock.instant().getEpochSecond());
    StripeCollection<CreditGrant> page3 = list(listOf("cus_p").setLimit(2L).setStartingAfter(g2).build());
    assertThat(page3.getData()).extracting(CreditGrant::getId).containsExactly(g1);
    assertThat(page3.getHasMore()).isFalse();

    StripeCollection<CreditGrant> back = list(listOf("cus_p").setLimit(2L).setEndingBefore(g1).build());
    assertThat(back.getData()).extracting(CreditGrant::getId).containsExactly(g3, g2);
    assertThat(back.getHasMore()).isTrue();
    StripeCollection<CreditGrant> front = list(listOf("cus_p").setLimit(2L).setEndingBefore(g3).build());
    assertThat(front.getData()).extracting(CreditGrant::getId).containsExactly(g5, g4);
    assertThat(front.getHasMore()).isFalse();

    // stripe-java 33.3.0 auto-pages forward only: after an ending_before page it keeps ending_before and adds
    // starting_after, a pair Stripe refuses, so auto-paging works only from a starting_after (or no) cursor
    Iterable<CreditGrant> backwards = list(listOf("cus_p").setLimit(1L).setEndingBefore(g1).build())
        .autoPagingIterable();
    Throwable refused = catchThrowable(() -> backwards.forEach(grant -> { }));
    assertThat(refused).hasMessage("Unable to lazy-load stripe objects");
    assertThat(refused.getCause()).isInstanceOf(InvalidRequestException.class);
    assertThat(((InvalidRequestException) refused.getCause()).getCode()).isEqualTo("parameters_exclusive");
  }

  @Test
  void listParametersAreValidatedLikeStripe() {
    InvalidRequestException noCustomer = thrown(InvalidRequestException.class,
        () -> list(CreditGrantListParams.builder().setLimit(5L).build()));
    assertThat(noCustomer.getStatusCode()).isEqualTo(400);
    assertThat(noCustomer.getCode()).isEqualTo("parameter_missing");
    assertThat(noCustomer.getParam()).isEqualTo("customer");

    for (long limit : new long[] {0, 101}) {
      InvalidRequestException bad = thrown(InvalidRequestException.class,
          () -> list(listOf("cus_1").setLimit(limit).build()));
      assertThat(bad.getCode()).isEqualTo("parameter_invalid_integer");
      assertThat(bad.getParam()).isEqualTo("limit");
    }
    InvalidRequestException unknown = thrown(InvalidRequestException.class,
        () -> list(listOf("cus_1").putExtraParam("colour", "red").build()));
    assertThat(unknown.getCode()).isEqualTo("parameter_unknown");
    assertThat(unknown.getParam()).isEqualTo("colour");

    InvalidRequestException cursor = thrown(InvalidRequestException.class,
        () -> list(listOf("cus_1").setStartingAfter("credgr_gone").build()));
    assertThat(cursor.getStatusCode()).isEqualTo(400);
    assertThat(cursor.getCode()).isEqualTo("resource_missing");
    assertThat(cursor.getParam()).isEqualTo("starting_after");

    InvalidRequestException both = thrown(InvalidRequestException.class,
        () -> list(listOf("cus_1").setStartingAfter("credgr_a").setEndingBefore("credgr_b").build()));
    assertThat(both.getCode()).isEqualTo("parameters_exclusive");
  }

  // ---- idempotency key expiry -------------------------------------------------------------------------------

  @Test
  void idempotencyKeysExpireTwentyFourHoursAfterFirstUse() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-04-01T08:00:00Z"));
    restartWith(clock);
    CreditGrantCreateParams p = params("cus_1", 1000, Category.PAID).build();
    CreditGrant first = create(p, "k-day");

    clock.advance(Duration.ofHours(24).minusSeconds(1));
    CreditGrant replayed = create(p, "k-day");
    assertThat(replayed.getId()).isEqualTo(first.getId());
    assertThat(header(replayed, "Idempotent-Replayed")).isEqualTo("true");
    thrown(IdempotencyException.class, () -> create(params("cus_1", 2000, Category.PAID).build(), "k-day"));

    clock.advance(Duration.ofSeconds(1));
    CreditGrant fresh = create(p, "k-day");
    assertThat(fresh.getId()).isNotEqualTo(first.getId());
    assertThat(header(fresh, "Idempotent-Replayed")).isNull();
    assertThat(fake.createCount("k-day")).isEqualTo(2);

    // the fresh use starts a new 24 hours; after them, other parameters are no conflict either
    clock.advance(Duration.ofHours(23));
    assertThat(create(p, "k-day").getId()).isEqualTo(fresh.getId());
    clock.advance(Duration.ofHours(1));
    CreditGrant other = create(params("cus_1", 2000, Category.PAID).build(), "k-day");
    assertThat(other.getAmount().getMonetary().getValue()).isEqualTo(2000L);
    assertThat(fake.creditGrants()).hasSize(3);
  }

  @Test
  void forgottenKeysAreProcessedAfresh() throws Exception {
    CreditGrantCreateParams p = params("cus_1", 1000, Category.PAID).build();
    CreditGrant first = create(p, "k-forget");
    fake.forgetIdempotencyKeys();
    CreditGrant second = create(p, "k-forget");
    assertThat(second.getId()).isNotEqualTo(first.getId());
    assertThat(header(second, "Idempotent-Replayed")).isNull();
    assertThat(fake.createCount("k-forget")).isEqualTo(2);
  }

  // ---- changes behind the ledger's back ---------------------------------------------------------------------

  @Test
  void dashboardChangesShowThroughRetrieveAndList() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-04-01T08:00:00Z"));
    restartWith(clock);
    long t0 = clock.instant().getEpochSecond();
    JsonObject put = fake.putCreditGrant(dashboardGrant("cus_dash", 2500)
        .put("name", "Goodwill")
        .put("category", "promotional")
        .put("metadata", new JsonObject().put("source", "dashboard")));
    String id = put.getString("id");
    assertThat(id).matches("credgr_test_[A-Za-z0-9]{32}");
    assertThat(put.fieldNames()).containsExactlyInAnyOrderElementsOf(FIXTURE_KEYS);
    assertThat(put.getValue("created")).isEqualTo(t0);
    assertThat(put.getValue("updated")).isEqualTo(t0);
    assertThat(put.getValue("effective_at")).isEqualTo(t0);
    assertThat(put.getValue("livemode")).isEqualTo(false);
    assertThat(put.getValue("priority")).isEqualTo(50);
    assertThat(put.getValue("voided_at")).isNull();
    assertThat(fake.creditGrant(id)).isEqualTo(put);

    CreditGrant seen = client.v1().billing().creditGrants().retrieve(id);
    assertThat(seen.getCustomer()).isEqualTo("cus_dash");
    assertThat(seen.getAmount().getMonetary().getValue()).isEqualTo(2500L);
    assertThat(seen.getCategory()).isEqualTo("promotional");
    assertThat(seen.getName()).isEqualTo("Goodwill");
    assertThat(seen.getMetadata()).containsEntry("source", "dashboard");
    assertThat(seen.getApplicabilityConfig().getScope().getPriceType()).isEqualTo("metered");

    clock.advance(Duration.ofMinutes(1));
    fake.setCreditGrantAmount(id, 1800);
    seen = client.v1().billing().creditGrants().retrieve(id);
    assertThat(seen.getAmount().getMonetary().getValue()).isEqualTo(1800L);
    assertThat(seen.getUpdated()).isEqualTo(t0 + 60);

    clock.advance(Duration.ofMinutes(1));
    fake.setCreditGrantExpiry(id, 1_900_000_000L);
    seen = client.v1().billing().creditGrants().retrieve(id);
    assertThat(seen.getExpiresAt()).isEqualTo(1_900_000_000L);
    assertThat(seen.getUpdated()).isEqualTo(t0 + 120);
    fake.setCreditGrantExpiry(id, null);
    assertThat(client.v1().billing().creditGrants().retrieve(id).getExpiresAt()).isNull();

    clock.advance(Duration.ofMinutes(1));
    fake.voidCreditGrant(id);
    CreditGrant listed = list(listOf("cus_dash").build()).getData().get(0);
    assertThat(listed.getId()).isEqualTo(id);
    assertThat(listed.getVoidedAt()).isEqualTo(t0 + 180);
    assertThat(listed.getUpdated()).isEqualTo(t0 + 180);

    fake.deleteCreditGrant(id);
    InvalidRequestException gone = thrown(InvalidRequestException.class,
        () -> client.v1().billing().creditGrants().retrieve(id));
    assertThat(gone.getStatusCode()).isEqualTo(404);
    assertThat(gone.getCode()).isEqualTo("resource_missing");
    assertThat(list(listOf("cus_dash").build()).getData()).isEmpty();
    assertThat(fake.creditGrant(id)).isNull();
    assertThat(fake.creditGrants()).isEmpty();
  }

  @Test
  void dashboardHooksKeepGivenFieldsAndRefuseNonsense() throws Exception {
    JsonObject put = fake.putCreditGrant(dashboardGrant("cus_1", 700)
        .put("id", "credgr_test_given")
        .put("created", 1_700_000_000L)
        .put("effective_at", 1_700_000_100L));
    assertThat(put.getString("id")).isEqualTo("credgr_test_given");
    assertThat(put.getValue("created")).isEqualTo(1_700_000_000L);
    assertThat(put.getValue("effective_at")).isEqualTo(1_700_000_100L);
    CreditGrant grant = client.v1().billing().creditGrants().retrieve("credgr_test_given");
    assertThat(grant.getCreated()).isEqualTo(1_700_000_000L);

    assertThat(catchThrowable(() -> fake.putCreditGrant(new JsonObject().put("customer", "cus_1"))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(catchThrowable(() -> fake.putCreditGrant(dashboardGrant("cus_1", 1).put("customer", null))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(catchThrowable(() -> fake.voidCreditGrant("credgr_nope"))).isInstanceOf(IllegalArgumentException.class);
    assertThat(catchThrowable(() -> fake.setCreditGrantAmount("credgr_test_given", 0)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(catchThrowable(() -> fake.deleteCreditGrant("credgr_nope"))).isInstanceOf(IllegalArgumentException.class);
  }

  // ---- meter events -----------------------------------------------------------------------------------------

  private static MeterEventCreateParams.Builder meter(String customer, long value) {
    return MeterEventCreateParams.builder()
        .setEventName("api_calls")
        .putPayload("stripe_customer_id", customer)
        .putPayload("value", Long.toString(value));
  }

  private MeterEvent report(MeterEventCreateParams params, String idempotencyKey) throws StripeException {
    return client.v1().billing().meterEvents()
        .create(params, RequestOptions.builder().setIdempotencyKey(idempotencyKey).build());
  }

  @Test
  void meterEventsAreCountedOncePerIdentifier() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-05-10T12:00:00Z"));
    restartWith(clock);
    long now = clock.instant().getEpochSecond();
    MeterEventCreateParams first = meter("cus_m", 25).setIdentifier("usage-1").setTimestamp(now - 60).build();
    MeterEvent event = report(first, "k-m1");
    assertThat(event.getObject()).isEqualTo("billing.meter_event");
    assertThat(event.getEventName()).isEqualTo("api_calls");
    assertThat(event.getIdentifier()).isEqualTo("usage-1");
    assertThat(event.getPayload()).containsExactlyInAnyOrderEntriesOf(
        Map.of("stripe_customer_id", "cus_m", "value", "25"));
    assertThat(event.getTimestamp()).isEqualTo(now - 60);
    assertThat(event.getCreated()).isEqualTo(now);
    assertThat(event.getLivemode()).isFalse();
    assertThat(fake.requests().get(0).params().getJsonObject("payload").getString("value")).isEqualTo("25");

    // the same request under the same key is replayed, not counted again
    MeterEvent replayed = report(first, "k-m1");
    assertThat(replayed.getIdentifier()).isEqualTo("usage-1");
    assertThat(replayed.getLastResponse().headers().firstValue("Idempotent-Replayed")).contains("true");

    // the same identifier under a new key is refused; Stripe's v1 refusal has no code, only this message
    InvalidRequestException duplicate = thrown(InvalidRequestException.class, () -> report(first, "k-m2"));
    assertThat(duplicate.getStatusCode()).isEqualTo(400);
    assertThat(duplicate.getStripeError().getType()).isEqualTo("invalid_request_error");
    assertThat(duplicate.getCode()).isNull();
    assertThat(duplicate.getStripeError().getMessage()).isEqualTo("An event already exists with identifier usage-1.");
    assertThat(fake.meterTotal("cus_m", "api_calls")).isEqualTo(25);

    // without identifier or timestamp: one is generated, the other is now
    MeterEvent generated = report(meter("cus_m", 5).build(), "k-m3");
    assertThat(generated.getIdentifier()).isNotBlank().isNotEqualTo("usage-1");
    assertThat(generated.getTimestamp()).isEqualTo(now);
    report(meter("cus_other", 7).build(), "k-m4");
    report(meter("cus_m", 11).setEventName("storage_gb").build(), "k-m5");
    assertThat(fake.meterTotal("cus_m", "api_calls")).isEqualTo(30);
    assertThat(fake.meterTotal("cus_other", "api_calls")).isEqualTo(7);
    assertThat(fake.meterTotal("cus_m", "storage_gb")).isEqualTo(11);
    assertThat(fake.meterEvents()).hasSize(4).extracting(e -> e.getString("identifier"))
        .startsWith("usage-1", generated.getIdentifier())
        .doesNotHaveDuplicates();

    // uniqueness is enforced for 24 hours (by the fake's clock); after them the identifier counts again
    clock.advance(Duration.ofHours(24));
    report(meter("cus_m", 25).setIdentifier("usage-1").build(), "k-m6");
    assertThat(fake.meterTotal("cus_m", "api_calls")).isEqualTo(55);
  }

  @Test
  void meterTimestampsMustBeWithin35DaysBackAnd5MinutesAhead() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-05-10T12:00:00Z"));
    restartWith(clock);
    long now = clock.instant().getEpochSecond();
    long oldest = now - Duration.ofDays(35).toSeconds();
    report(meter("cus_t", 1).setTimestamp(oldest).build(), "k-t1");
    report(meter("cus_t", 2).setTimestamp(now + 300).build(), "k-t2");

    InvalidRequestException old = thrown(InvalidRequestException.class,
        () -> report(meter("cus_t", 4).setTimestamp(oldest - 1).build(), "k-t3"));
    assertThat(old.getStatusCode()).isEqualTo(400);
    assertThat(old.getCode()).isEqualTo("timestamp_too_far_in_past");
    assertThat(old.getParam()).isEqualTo("timestamp");
    assertThat(old.getStripeError().getMessage()).isEqualTo("The event timestamp cannot be more than 35 days in "
        + "past. Expected a timestamp greater than or equal to " + oldest + ".");
    InvalidRequestException ahead = thrown(InvalidRequestException.class,
        () -> report(meter("cus_t", 8).setTimestamp(now + 301).build(), "k-t4"));
    assertThat(ahead.getCode()).isEqualTo("timestamp_in_future");
    assertThat(fake.meterTotal("cus_t", "api_calls")).isEqualTo(3);

    // a refused event stores nothing under its key: the corrected one goes through
    report(meter("cus_t", 4).setTimestamp(now).build(), "k-t3");
    assertThat(fake.meterTotal("cus_t", "api_calls")).isEqualTo(7);
  }

  @Test
  void meterEventPayloadsAreChecked() {
    InvalidRequestException noName = thrown(InvalidRequestException.class,
        () -> report(MeterEventCreateParams.builder().putPayload("stripe_customer_id", "cus_1")
            .putPayload("value", "1").build(), "k-v1"));
    assertThat(noName.getCode()).isEqualTo("parameter_missing");
    assertThat(noName.getParam()).isEqualTo("event_name");
    InvalidRequestException noPayload = thrown(InvalidRequestException.class,
        () -> report(MeterEventCreateParams.builder().setEventName("api_calls").build(), "k-v2"));
    assertThat(noPayload.getParam()).isEqualTo("payload");
    InvalidRequestException noCustomer = thrown(InvalidRequestException.class,
        () -> report(MeterEventCreateParams.builder().setEventName("api_calls").putPayload("value", "1").build(), "k-v3"));
    assertThat(noCustomer.getCode()).isEqualTo("meter_event_no_customer_defined");
    InvalidRequestException noValue = thrown(InvalidRequestException.class,
        () -> report(MeterEventCreateParams.builder().setEventName("api_calls")
            .putPayload("stripe_customer_id", "cus_1").build(), "k-v4"));
    assertThat(noValue.getCode()).isEqualTo("meter_event_invalid_value");
    InvalidRequestException fraction = thrown(InvalidRequestException.class,
        () -> report(meter("cus_1", 1).putPayload("value", "2.5").build(), "k-v5"));
    assertThat(fraction.getCode()).isEqualTo("meter_event_invalid_value");
    assertThat(fraction.getParam()).isEqualTo("payload[value]");
    InvalidRequestException unknown = thrown(InvalidRequestException.class,
        () -> report(meter("cus_1", 1).putExtraParam("colour", "red").build(), "k-v6"));
    assertThat(unknown.getCode()).isEqualTo("parameter_unknown");
    assertThat(fake.meterEvents()).isEmpty();
  }

  // ---- payment intents --------------------------------------------------------------------------------------

  /** An off-session charge of a saved card, as the ledger makes one. */
  private static PaymentIntentCreateParams.Builder charge(long cents) {
    return PaymentIntentCreateParams.builder()
        .setAmount(cents)
        .setCurrency("usd")
        .setCustomer("cus_pay")
        .setPaymentMethod("pm_card_visa")
        .setOffSession(true)
        .setConfirm(true)
        .setAutomaticPaymentMethods(AutomaticPaymentMethods.builder()
            .setEnabled(true)
            .setAllowRedirects(AutomaticPaymentMethods.AllowRedirects.NEVER)
            .build())
        .setDescription("Credit top-up")
        .putMetadata("operationId", "op-pay");
  }

  private PaymentIntent pay(PaymentIntentCreateParams params, String idempotencyKey) throws StripeException {
    return client.v1().paymentIntents()
        .create(params, RequestOptions.builder().setIdempotencyKey(idempotencyKey).build());
  }

  @Test
  void createsAConfirmedPaymentIntentShapedLikeStripes() throws Exception {
    PaymentIntent intent = pay(charge(1500).build(), "k-pi");
    assertThat(intent.getId()).matches("pi_[A-Za-z0-9]{24}");
    assertThat(intent.getObject()).isEqualTo("payment_intent");
    assertThat(intent.getStatus()).isEqualTo("succeeded");
    assertThat(intent.getAmount()).isEqualTo(1500L);
    assertThat(intent.getAmountReceived()).isEqualTo(1500L);
    assertThat(intent.getCurrency()).isEqualTo("usd");
    assertThat(intent.getCustomer()).isEqualTo("cus_pay");
    assertThat(intent.getPaymentMethod()).isEqualTo("pm_card_visa");
    assertThat(intent.getDescription()).isEqualTo("Credit top-up");
    assertThat(intent.getMetadata()).containsExactlyEntriesOf(Map.of("operationId", "op-pay"));
    assertThat(intent.getLatestCharge()).startsWith("ch_");
    assertThat(intent.getClientSecret()).startsWith(intent.getId() + "_secret_");
    assertThat(intent.getLivemode()).isFalse();
    assertThat(intent.getLastPaymentError()).isNull();
    assertThat(intent.getAutomaticPaymentMethods().getAllowRedirects()).isEqualTo("never");

    JsonObject stored = fake.paymentIntentsCreated().get(0);
    assertThat(stored.fieldNames()).containsExactlyInAnyOrderElementsOf(StripeFixtures.fixture("payment_intent").fieldNames());
    assertThat(fake.paymentIntentsCreated()).hasSize(1);
    FakeStripe.Recorded request = fake.requests().get(0);
    assertThat(request.params().getString("confirm")).isEqualTo("true");
    assertThat(request.params().getString("off_session")).isEqualTo("true");
    assertThat(request.params().getString("amount")).isEqualTo("1500");

    PaymentIntent retrieved = client.v1().paymentIntents().retrieve(intent.getId());
    assertThat(retrieved.getStatus()).isEqualTo("succeeded");
    assertThat(retrieved.getMetadata()).containsEntry("operationId", "op-pay");

    PaymentIntent replayed = pay(charge(1500).build(), "k-pi");
    assertThat(replayed.getId()).isEqualTo(intent.getId());
    assertThat(replayed.getLastResponse().headers().firstValue("Idempotent-Replayed")).contains("true");
    assertThat(fake.paymentIntentsCreated()).hasSize(1);
  }

  @Test
  void aDeclineIsA402CardErrorKeptForItsKey() throws Exception {
    fake.declineNextPaymentIntents(1, "insufficient_funds");
    CardException declined = thrown(CardException.class, () -> pay(charge(1500).build(), "k-decline"));
    assertThat(declined.getStatusCode()).isEqualTo(402);
    assertThat(declined.getCode()).isEqualTo("card_declined");
    assertThat(declined.getDeclineCode()).isEqualTo("insufficient_funds");
    assertThat(declined.getCharge()).startsWith("ch_");
    assertThat(declined.getStripeError().getType()).isEqualTo("card_error");
    assertThat(declined.getStripeError().getMessage()).isEqualTo("Your card has insufficient funds.");
    PaymentIntent failed = declined.getStripeError().getPaymentIntent();
    assertThat(failed.getStatus()).isEqualTo("requires_payment_method");
    assertThat(failed.getLastPaymentError().getDeclineCode()).isEqualTo("insufficient_funds");
    assertThat(failed.getMetadata()).containsEntry("operationId", "op-pay");
    assertThat(client.v1().paymentIntents().retrieve(failed.getId()).getStatus()).isEqualTo("requires_payment_method");

    // Stripe keeps the 402 as the key's result: the retry replays it and attempts no second payment
    CardException again = thrown(CardException.class, () -> pay(charge(1500).build(), "k-decline"));
    assertThat(again.getStripeError().getPaymentIntent().getId()).isEqualTo(failed.getId());
    assertThat(again.getStripeError().getLastResponse().headers().firstValue("Idempotent-Replayed")).contains("true");

    // one decline was queued: the next attempt under a new key succeeds
    assertThat(pay(charge(1500).build(), "k-decline-2").getStatus()).isEqualTo("succeeded");
    assertThat(fake.paymentIntentsCreated()).extracting(pi -> pi.getString("status"))
        .containsExactly("requires_payment_method", "succeeded");
  }

  @Test
  void authenticationRequiredDeclinesOffSessionAndAsksForActionOnSession() throws Exception {
    fake.declineNextPaymentIntents(3, "authentication_required");
    CardException offSession = thrown(CardException.class, () -> pay(charge(1500).build(), "k-sca-1"));
    assertThat(offSession.getStatusCode()).isEqualTo(402);
    assertThat(offSession.getCode()).isEqualTo("authentication_required");
    assertThat(offSession.getDeclineCode()).isEqualTo("authentication_required");
    assertThat(offSession.getStripeError().getMessage())
        .isEqualTo("Your card was declined. This transaction requires authentication.");
    assertThat(offSession.getStripeError().getPaymentIntent().getStatus()).isEqualTo("requires_payment_method");

    PaymentIntent onSession = pay(charge(1500).setOffSession((Boolean) null).build(), "k-sca-2");
    assertThat(onSession.getStatus()).isEqualTo("requires_action");
    assertThat(onSession.getNextAction().getType()).isEqualTo("use_stripe_sdk");
    assertThat(onSession.getPaymentMethod()).isEqualTo("pm_card_visa");

    CardException noActions = thrown(CardException.class,
        () -> pay(charge(1500).setOffSession((Boolean) null).setErrorOnRequiresAction(true).build(), "k-sca-3"));
    assertThat(noActions.getCode()).isEqualTo("authentication_required");
    assertThat(pay(charge(1500).build(), "k-sca-4").getStatus()).isEqualTo("succeeded");
  }

  @Test
  void paymentIntentRequestsAreValidatedLikeStripe() throws Exception {
    fake.declineNextPaymentIntents(1, "generic_decline");
    // no attempt without confirm: the intent waits for confirmation and the queued decline stays queued
    PaymentIntent unconfirmed = pay(charge(1500).setConfirm(null).setOffSession((Boolean) null).build(), "k-v0");
    assertThat(unconfirmed.getStatus()).isEqualTo("requires_confirmation");

    // confirming without a payment method creates the intent and refuses; the refusal is kept for the key
    InvalidRequestException noMethod = thrown(InvalidRequestException.class,
        () -> pay(charge(1500).setPaymentMethod(null).build(), "k-v1"));
    assertThat(noMethod.getStatusCode()).isEqualTo(400);
    assertThat(noMethod.getCode()).isEqualTo("payment_intent_unexpected_state");
    assertThat(noMethod.getStripeError().getPaymentIntent().getStatus()).isEqualTo("requires_payment_method");
    InvalidRequestException replayed = thrown(InvalidRequestException.class,
        () -> pay(charge(1500).setPaymentMethod(null).build(), "k-v1"));
    assertThat(replayed.getStripeError().getPaymentIntent().getId())
        .isEqualTo(noMethod.getStripeError().getPaymentIntent().getId());
    assertThat(fake.paymentIntentsCreated()).hasSize(2);

    // automatic payment methods may redirect: confirming needs a return_url (or card-only types)
    InvalidRequestException redirects = thrown(InvalidRequestException.class,
        () -> pay(charge(1500).setAutomaticPaymentMethods(null).build(), "k-v2"));
    assertThat(redirects.getStripeError().getMessage()).contains("you must provide a `return_url`");
    InvalidRequestException small = thrown(InvalidRequestException.class, () -> pay(charge(49).build(), "k-v3"));
    assertThat(small.getCode()).isEqualTo("amount_too_small");
    assertThat(small.getParam()).isEqualTo("amount");
    assertThat(small.getStripeError().getMessage()).isEqualTo("Amount must be at least $0.50 usd");
    InvalidRequestException noCurrency = thrown(InvalidRequestException.class,
        () -> pay(charge(1500).setCurrency(null).build(), "k-v4"));
    assertThat(noCurrency.getCode()).isEqualTo("parameter_missing");
    assertThat(noCurrency.getParam()).isEqualTo("currency");
    InvalidRequestException offWithoutConfirm = thrown(InvalidRequestException.class,
        () -> pay(charge(1500).setConfirm(null).build(), "k-v5"));
    assertThat(offWithoutConfirm.getParam()).isEqualTo("off_session");
    InvalidRequestException unknown = thrown(InvalidRequestException.class,
        () -> pay(charge(1500).putExtraParam("colour", "red").build(), "k-v6"));
    assertThat(unknown.getCode()).isEqualTo("parameter_unknown");
    assertThat(fake.paymentIntentsCreated()).hasSize(2);

    // validation failures store nothing: the corrected request under the same key is a real payment
    // attempt, the first one, so it meets the decline queued at the start
    CardException declined = thrown(CardException.class,
        () -> pay(charge(1500).setAutomaticPaymentMethods(null).addPaymentMethodType("card").build(), "k-v2"));
    assertThat(declined.getDeclineCode()).isEqualTo("generic_decline");
    assertThat(declined.getStripeError().getMessage()).isEqualTo("Your card was declined.");
    PaymentIntent cardOnly = declined.getStripeError().getPaymentIntent();
    assertThat(cardOnly.getAutomaticPaymentMethods()).isNull();
    assertThat(cardOnly.getPaymentMethodTypes()).containsExactly("card");
    assertThat(fake.paymentIntentsCreated()).hasSize(3);
  }

  /** The exception {@code call} throws, failing unless it throws one of {@code type}. */
  private static <T extends Throwable> T thrown(Class<T> type, ThrowingCallable call) {
    Throwable t = catchThrowable(call);
    assertThat(t).isInstanceOf(type);
    return type.cast(t);
  }

  private static HttpResponse<String> raw(HttpRequest.Builder request) throws Exception {
    return HttpClient.newHttpClient().send(request.timeout(Duration.ofSeconds(2)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
