package io.creditledger.support;

import com.stripe.StripeClient;
import com.stripe.exception.ApiConnectionException;
import com.stripe.exception.ApiException;
import com.stripe.exception.AuthenticationException;
import com.stripe.exception.IdempotencyException;
import com.stripe.exception.InvalidRequestException;
import com.stripe.exception.RateLimitException;
import com.stripe.exception.StripeException;
import com.stripe.model.PaymentIntent;
import com.stripe.model.StripeCollection;
import com.stripe.model.billing.CreditGrant;
import com.stripe.net.RequestOptions;
import com.stripe.param.billing.CreditGrantCreateParams;
import com.stripe.param.billing.CreditGrantCreateParams.Amount;
import com.stripe.param.billing.CreditGrantCreateParams.ApplicabilityConfig;
import com.stripe.param.billing.CreditGrantCreateParams.Category;
import com.stripe.param.billing.CreditGrantListParams;
import com.stripe.param.billing.CreditGrantUpdateParams;
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
