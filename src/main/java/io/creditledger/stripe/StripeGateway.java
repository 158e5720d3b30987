package io.creditledger.stripe;

import com.stripe.StripeClient;
import com.stripe.exception.ApiConnectionException;
import com.stripe.exception.ApiException;
import com.stripe.exception.CardException;
import com.stripe.exception.IdempotencyException;
import com.stripe.exception.InvalidRequestException;
import com.stripe.exception.RateLimitException;
import com.stripe.exception.StripeException;
import com.stripe.model.Customer;
import com.stripe.model.PaymentIntent;
import com.stripe.model.StripeCollection;
import com.stripe.model.billing.CreditGrant;
import com.stripe.net.RequestOptions;
import com.stripe.param.PaymentIntentCreateParams;
import com.stripe.param.billing.CreditGrantCreateParams;
import com.stripe.param.billing.CreditGrantListParams;
import com.stripe.param.billing.CreditGrantVoidGrantParams;
import com.stripe.param.billing.MeterEventCreateParams;
import io.creditledger.config.StripeSettings;
import io.creditledger.domain.OutboxAction;
import io.creditledger.stripe.OutboxRow;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Sends outbox rows to Stripe with stripe-java. Blocking: call it on a worker thread. Each row's outbox key is
 * its Idempotency-Key, so a resend after a lost answer gets Stripe's stored answer instead of a second grant.
 * stripe-java's own retries are off: the relay retries with its backoff, rate and attempt budget.
 */
public final class StripeGateway {
  private final StripeClient client;

  /** One per process: its calls share at most {@code settings.concurrency()} connections to Stripe. */
  public StripeGateway(StripeSettings settings) {
    int timeoutMs = (int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis());
    this.client = StripeClient.builder()
        .setHttpClient(new PooledHttpClient(settings.concurrency(), settings.timeout()))
        .setApiKey(settings.apiKey())
        .setApiBase(settings.apiBase())
        .setMaxNetworkRetries(0)
        .setConnectTimeout(timeoutMs)
        .setReadTimeout(timeoutMs)
        .build();
  }

  /** Why a send failed and what to do about it. */
  public record Failure(boolean retryable, Duration retryAfter, String message) {
  }

  /** Sends the row; returns the Stripe object id (the credit grant's id, or the meter event's identifier). */
  public String send(OutboxRow row) throws StripeException {
    RequestOptions options = RequestOptions.builder().setIdempotencyKey(row.idempotencyKey()).build();
    if (row.action() == OutboxAction.CREATE_CREDIT_GRANT) {
      return client.v1().billing().creditGrants().create(createParams(row.payload()), options).getId();
    }
    if (row.action() == OutboxAction.REPORT_USAGE) {
      return reportUsage(row.payload(), options);
    }
    if (row.voidTarget() == null) {
      throw new IllegalStateException("the grant's Stripe id is not known yet");
    }
    return client.v1().billing().creditGrants()
        .voidGrant(row.voidTarget(), CreditGrantVoidGrantParams.builder().build(), options).getId();
  }

  /** What Stripe answered a PaymentIntent: its id and status ({@code succeeded}, {@code processing}, ...). */
  public record PaymentIntentAnswer(String id, String status) {
  }

  /**
   * Creates and confirms an auto top-up's PaymentIntent off-session, under the row's key. A declined card comes
   * back as a {@link com.stripe.exception.CardException} (402): not worth a retry.
   */
  public PaymentIntentAnswer createPaymentIntent(OutboxRow row) throws StripeException {
    JsonObject p = row.payload();
    PaymentIntentCreateParams.Builder params = PaymentIntentCreateParams.builder()
        .setAmount(p.getLong("amount"))
        .setCurrency(p.getString("currency"))
        .setCustomer(p.getString("customer"))
        .setOffSession(p.getBoolean("offSession", true))
        .setConfirm(p.getBoolean("confirm", true))
        .setAutomaticPaymentMethods(PaymentIntentCreateParams.AutomaticPaymentMethods.builder().setEnabled(true)
            .setAllowRedirects(PaymentIntentCreateParams.AutomaticPaymentMethods.AllowRedirects.NEVER).build());
    params.setPaymentMethod(p.getString("paymentMethod") != null ? p.getString("paymentMethod")
        : defaultPaymentMethod(p.getString("customer")));
    JsonObject metadata = p.getJsonObject("metadata");
    for (String key : metadata.fieldNames()) {
      params.putMetadata(key, metadata.getString(key));
    }
    RequestOptions options = RequestOptions.builder().setIdempotencyKey(row.idempotencyKey()).build();
    PaymentIntent intent = client.v1().paymentIntents().create(params.build(), options);
    return new PaymentIntentAnswer(intent.getId(), intent.getStatus());
  }

  /** The card the customer's invoices use, which an auto top-up without its own card charges. */
  private String defaultPaymentMethod(String customer) throws StripeException {
    Customer found = client.v1().customers().retrieve(customer);
    String method = found.getInvoiceSettings() == null ? null : found.getInvoiceSettings().getDefaultPaymentMethod();
    if (method == null) {
      throw new IllegalArgumentException("customer " + customer + " has no default payment method");
    }
    return method;
  }

  /**
   * A meter event. Stripe counts an identifier once: when a resend outlives the idempotency key (or another
   * instance sent it), Stripe refuses the identifier as already used, which means the usage is already reported.
   */
  private String reportUsage(JsonObject p, RequestOptions options) throws StripeException {
    String identifier = p.getString("identifier");
    MeterEventCreateParams params = MeterEventCreateParams.builder()
        .setEventName(p.getString("eventName"))
        .putPayload("stripe_customer_id", p.getString("customer"))
        .putPayload("value", Long.toString(p.getLong("value")))
        .setIdentifier(identifier)
        .setTimestamp(p.getLong("timestamp"))
        .build();
    try {
      return client.v1().billing().meterEvents().create(params, options).getIdentifier();
    } catch (InvalidRequestException e) {
      // Stripe's v1 answer carries no code for this, only the message
      if (e.getMessage() != null && e.getMessage().contains("already exists with identifier")) {
        return identifier;
      }
      throw e;
    }
  }

  /** The customer's credit grants as Stripe holds them, every page. */
  public List<CreditGrant> creditGrants(String customer) throws StripeException {
    return creditGrants(customer, () -> { });
  }

  /** Like {@link #creditGrants(String)}, calling {@code beforeEachPage} before each request (to pace them). */
  public List<CreditGrant> creditGrants(String customer, Runnable beforeEachPage) throws StripeException {
    List<CreditGrant> all = new ArrayList<>();
    String after = null;
    boolean more = true;
    while (more) {
      beforeEachPage.run();
      CreditGrantListParams.Builder params = CreditGrantListParams.builder().setCustomer(customer).setLimit(100L);
      if (after != null) {
        params.setStartingAfter(after);
      }
      StripeCollection<CreditGrant> page = client.v1().billing().creditGrants().list(params.build());
      all.addAll(page.getData());
      more = Boolean.TRUE.equals(page.getHasMore()) && !page.getData().isEmpty();
      after = more ? page.getData().get(page.getData().size() - 1).getId() : null;
    }
    return all;
  }

  /**
   * The Stripe grant an earlier attempt of this create row made, if any: one of the customer's grants carrying
   * the row's key as {@code mirrorKey} (or, for rows written before the key travelled, the grant's operationId).
   */
  public Optional<String> findCreated(OutboxRow row) throws StripeException {
    String customer = row.payload().getString("customer");
    JsonObject metadata = row.payload().getJsonObject("metadata");
    String operationId = metadata == null ? null : metadata.getString("operationId");
    for (CreditGrant grant : creditGrants(customer)) {
      Map<String, String> m = grant.getMetadata() == null ? Map.of() : grant.getMetadata();
      boolean sameKey = row.idempotencyKey().equals(m.get("mirrorKey"));
      boolean sameGrant = m.get("mirrorKey") == null && !row.replacement() && operationId != null
          && operationId.equals(m.get("operationId"));
      if (sameKey || sameGrant) {
        return Optional.of(grant.getId());
      }
    }
    return Optional.empty();
  }

  /** The metadata of a PaymentIntent, read from Stripe. */
  public Map<String, String> paymentIntentMetadata(String paymentIntentId) throws StripeException {
    return client.v1().paymentIntents().retrieve(paymentIntentId).getMetadata();
  }

  static CreditGrantCreateParams createParams(JsonObject p) {
    CreditGrantCreateParams.Builder b = CreditGrantCreateParams.builder()
        .setCustomer(p.getString("customer"))
        .setAmount(CreditGrantCreateParams.Amount.builder()
            .setType(CreditGrantCreateParams.Amount.Type.MONETARY)
            .setMonetary(CreditGrantCreateParams.Amount.Monetary.builder()
                .setCurrency(p.getString("currency"))
                .setValue(p.getLong("amountCents"))
                .build())
            .build())
        .setApplicabilityConfig(CreditGrantCreateParams.ApplicabilityConfig.builder()
            .setScope(CreditGrantCreateParams.ApplicabilityConfig.Scope.builder()
                .setPriceType(CreditGrantCreateParams.ApplicabilityConfig.Scope.PriceType.METERED)
                .build())
            .build())
        .setCategory("paid".equals(p.getString("category"))
            ? CreditGrantCreateParams.Category.PAID : CreditGrantCreateParams.Category.PROMOTIONAL)
        .setPriority(p.getLong("priority"))
        .setName(p.getString("name"));
    if (p.getValue("expiresAt") != null) {
      b.setExpiresAt(p.getLong("expiresAt"));
    }
    Map<String, String> metadata = new HashMap<>();
    p.getJsonObject("metadata").forEach(e -> metadata.put(e.getKey(), String.valueOf(e.getValue())));
    return b.putAllMetadata(metadata).build();
  }

  /**
   * Classifies a failure of {@link #send}: connection problems, timeouts, 409, 429 and 5xx are worth a retry;
   * other 4xx (a missing customer, a bad parameter, a reused key) are not. A 429's Retry-After is read from the
   * response stripe-java attaches to the parsed error.
   */
  public static Failure classify(Throwable e) {
    String message = e instanceof CardException card
        ? "card_error " + card.getCode() + (card.getDeclineCode() == null ? "" : "/" + card.getDeclineCode()) + ": "
            + (card.getStripeError() == null ? card.getMessage() : card.getStripeError().getMessage())
        : e.getClass().getSimpleName() + ": " + e.getMessage();
    if (e instanceof RateLimitException rate) {
      String header = rate.getStripeError() == null || rate.getStripeError().getLastResponse() == null ? null
          : rate.getStripeError().getLastResponse().headers().firstValue("Retry-After").orElse(null);
      return new Failure(true, parseRetryAfter(header), message);
    }
    if (e instanceof ApiConnectionException || e instanceof ApiException) {
      return new Failure(true, null, message);
    }
    if (e instanceof IdempotencyException) {
      return new Failure(false, null, message);
    }
    if (e instanceof StripeException se) {
      Integer status = se.getStatusCode();
      boolean retryable = status == null || status == 409 || status >= 500;
      return new Failure(retryable, null, message);
    }
    return new Failure(e instanceof IllegalStateException, null, message);
  }

  static Duration parseRetryAfter(String header) {
    if (header == null) {
      return null;
    }
    try {
      long seconds = Long.parseLong(header.trim());
      return seconds >= 0 ? Duration.ofSeconds(seconds) : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
