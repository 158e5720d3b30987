package io.creditledger.wire;

import io.creditledger.config.HoldSettings;
import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.Accounts;
import io.creditledger.domain.Command;
import io.creditledger.domain.EventType;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.OrgMember;
import io.creditledger.domain.Hold;
import io.creditledger.domain.OutboxStatus;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.money.CentsPerCredit;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads every ledger request into its {@link Command}, strictly (see {@link Input}): once, at the edge where the
 * request arrives. The HTTP verticle reads the body and path into a command and sends the command over the event
 * bus; a co-deployed caller that sends JSON to an address has it read here by the address's endpoint.
 */
public final class Commands {
  public static final int TEXT_MAX = 500;
  /** An org's name. */
  public static final int NAME_MAX = 200;
  public static final int DEFAULT_PAGE = 100;
  public static final int MAX_PAGE = 500;
  private static final int KEY_MAX = 4096;
  private static final int URL_MAX = 2048;
  public static final String WEBHOOK_SECRET_PREFIX = "whsec_";
  private static final int MAX_REFERRAL_LIMIT = 1_000_000;
  private static final Pattern EMAIL = Pattern.compile("[^@\\s]{1,64}@[^@\\s]{1,190}");
  private static final Pattern STRIPE_CUSTOMER = Pattern.compile("cus_[A-Za-z0-9]{1,250}");
  private static final Pattern PAYMENT_METHOD = Pattern.compile("pm_[A-Za-z0-9_]{1,250}");

  private final long maxCredits;
  private final long autoTopUpMinCredits;
  private final HoldSettings holds;
  private final List<String> apiKeyTypes;
  private final boolean vaultOn;

  /** @param vaultOn whether the API-key vault has its secret (when not, its requests are 503 before anything else) */
  public Commands(LedgerConfig config, boolean vaultOn) {
    this.maxCredits = config.maxCreditsPerOperation();
    this.autoTopUpMinCredits = config.autoTopUpMinCredits();
    this.holds = config.holds();
    this.apiKeyTypes = config.apiKeyTypes();
    this.vaultOn = vaultOn;
  }

  public Command.Ready ready(JsonObject body) {
    Input.of(body, Set.of());
    return new Command.Ready();
  }

  public Command.PutUser putUser(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "email", "stripeCustomerId", "centsPerCredit", "referralLimit"));
    String userId = in.id("userId");
    String email = in.matching("email", EMAIL, "an email address");
    Billing billing = billing(in, body);
    boolean setReferralLimit = in.has("referralLimit");
    Integer referralLimit = setReferralLimit && body.getValue("referralLimit") != null
        ? (int) in.integer("referralLimit", 0, MAX_REFERRAL_LIMIT) : null;
    return new Command.PutUser(userId, email, billing.stripeCustomerId(), billing.clearStripeCustomer(),
        billing.centsPerCredit(), setReferralLimit, referralLimit);
  }

  /** What a user's or an org's account is billed by: the Stripe customer ({@code null} unlinks it) and the price. */
  private record Billing(String stripeCustomerId, boolean clearStripeCustomer, BigDecimal centsPerCredit) {
  }

  private static Billing billing(Input in, JsonObject body) {
    boolean clearStripeCustomer = in.has("stripeCustomerId") && body.getValue("stripeCustomerId") == null;
    String stripeCustomerId = in.optionalMatching("stripeCustomerId", STRIPE_CUSTOMER, "a Stripe customer id (cus_...)");
    BigDecimal centsPerCredit = in.optionalDecimal("centsPerCredit");
    if (centsPerCredit != null) {
      try {
        centsPerCredit = CentsPerCredit.validate(centsPerCredit);
      } catch (IllegalArgumentException e) {
        throw Input.invalid("centsPerCredit", e.getMessage());
      }
    }
    return new Billing(stripeCustomerId, clearStripeCustomer, centsPerCredit);
  }

  /**
   * The account a request names: {@code orgId}, an org's pool (its key {@code org/<orgId>}), or else {@code userId};
   * not both.
   */
  private static String account(Input in) {
    if (in.has("orgId")) {
      if (in.has("userId")) {
        throw Input.invalid("userId", "an org's pool is named by orgId alone here");
      }
      return Accounts.ofOrg(in.id("orgId"));
    }
    return in.id("userId");
  }

  /** Who spends or holds: a user's own account, or an org's pool ({@code orgId}) for its member {@code userId}. */
  private record Spender(String account, String memberId) {
  }

  private static Spender spender(Input in) {
    return in.has("orgId") ? new Spender(Accounts.ofOrg(in.id("orgId")), in.id("userId"))
        : new Spender(in.id("userId"), null);
  }

  // ---- organizations

  public Command.PutOrg putOrg(JsonObject body) {
    Input in = Input.of(body, Set.of("orgId", "name", "stripeCustomerId", "centsPerCredit", "creditLimit"));
    String orgId = in.id("orgId");
    String name = in.optionalString("name", NAME_MAX);
    if (name != null && name.isBlank()) {
      throw Input.invalid("name", "must not be blank");
    }
    Billing billing = billing(in, body);
    boolean setCreditLimit = in.has("creditLimit");
    Long creditLimit = setCreditLimit && body.getValue("creditLimit") != null
        ? in.integer("creditLimit", 0, Long.MAX_VALUE / 2) : null;
    return new Command.PutOrg(orgId, name, billing.stripeCustomerId(), billing.clearStripeCustomer(),
        billing.centsPerCredit(), setCreditLimit, creditLimit);
  }

  public Command.GetOrg getOrg(JsonObject body) {
    return new Command.GetOrg(Input.of(body, Set.of("orgId")).id("orgId"));
  }

  public Command.PutOrgMember putOrgMember(JsonObject body) {
    Input in = Input.of(body, Set.of("orgId", "userId", "role"));
    String orgId = in.id("orgId");
    String userId = in.id("userId");
    OrgMember.Role role = OrgMember.Role.fromWire(in.string("role", 16));
    if (role == null) {
      throw Input.invalid("role", "must be owner, admin or member");
    }
    return new Command.PutOrgMember(orgId, userId, role);
  }

  public Command.DeleteOrgMember deleteOrgMember(JsonObject body) {
    Input in = Input.of(body, Set.of("orgId", "userId"));
    return new Command.DeleteOrgMember(in.id("orgId"), in.id("userId"));
  }

  public Command.ListOrgMembers listOrgMembers(JsonObject body) {
    return new Command.ListOrgMembers(Input.of(body, Set.of("orgId")).id("orgId"));
  }

  /** {@code from} and {@code to} (ISO-8601 instants), from before to; by default the last 30 days up to now. */
  public Command.GetOrgUsage orgUsage(JsonObject body) {
    Input in = Input.of(body, Set.of("orgId", "from", "to"));
    String orgId = in.id("orgId");
    Instant from = in.optionalInstant("from");
    Instant to = in.optionalInstant("to");
    if (from != null && to != null && !from.isBefore(to)) {
      throw Input.invalid("to", "must be after from");
    }
    return new Command.GetOrgUsage(orgId, from, to);
  }

  public Command.GetUser getUser(JsonObject body) {
    return new Command.GetUser(Input.of(body, Set.of("userId")).id("userId"));
  }

  public Command.GrantCredits grant(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "orgId", "operationId", "amount", "type", "description", "expiresAt"));
    String userId = account(in);
    String operationId = in.id("operationId");
    long amount = in.integer("amount", 1, maxCredits);
    GrantType type = GrantType.fromWire(in.string("type", 32));
    if (type == null) {
      throw Input.invalid("type", "must be one of " + GrantType.NAMES);
    }
    if (!type.grantableTo(Accounts.isOrg(userId))) {
      throw Input.invalid("type", Accounts.isOrg(userId) ? "an org's grant is organization, purchase or admin"
          : "organization grants are an org's");
    }
    return new Command.GrantCredits(userId, operationId, type, amount, in.optionalString("description", TEXT_MAX),
        in.optionalInstant("expiresAt"));
  }

  public Command.ListGrants listGrants(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "orgId", "limit", "before"));
    return new Command.ListGrants(account(in), limit(in), before(in));
  }

  public Command.Revoke revoke(JsonObject body) {
    Input in = Input.of(body, Set.of("operationId", "reason"));
    return new Command.Revoke(in.grantId("operationId"), in.string("reason", TEXT_MAX));
  }

  public Command.Consume consume(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "orgId", "operationId", "amount"));
    Spender spender = spender(in);
    return new Command.Consume(spender.account(), in.id("operationId"), in.integer("amount", 1, maxCredits),
        spender.memberId());
  }

  public Command.PlaceHold placeHold(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "orgId", "operationId", "amount", "ttl"));
    Spender spender = spender(in);
    String operationId = in.id("operationId");
    long amount = in.integer("amount", 1, maxCredits);
    Duration ttl = in.optionalDuration("ttl");
    if (ttl != null && ttl.compareTo(holds.maxTtl()) > 0) {
      throw Input.invalid("ttl", "must not exceed " + holds.maxTtl() + " (HOLD_MAX_TTL)");
    }
    return new Command.PlaceHold(spender.account(), operationId, amount, ttl == null ? holds.defaultTtl() : ttl,
        spender.memberId());
  }

  public Command.CaptureHold captureHold(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "orgId", "holdId", "operationId", "amount"));
    return new Command.CaptureHold(account(in), in.id("holdId"), in.id("operationId"),
        in.integer("amount", 1, maxCredits));
  }

  public Command.ReleaseHold releaseHold(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "orgId", "holdId"));
    return new Command.ReleaseHold(account(in), in.id("holdId"));
  }

  public Command.GetHold getHold(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "orgId", "holdId"));
    return new Command.GetHold(account(in), in.id("holdId"));
  }

  public Command.ListHolds listHolds(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "orgId", "state", "limit"));
    String userId = account(in);
    String state = in.optionalString("state", 16);
    Hold.State filter = null;
    if (state != null) {
      try {
        filter = Hold.State.fromWire(state);
      } catch (IllegalArgumentException e) {
        throw Input.invalid("state", "must be one of held, captured, released, expired");
      }
    }
    return new Command.ListHolds(userId, filter, limit(in));
  }

  public Command.GetBalance balance(JsonObject body) {
    return new Command.GetBalance(account(Input.of(body, Set.of("userId", "orgId"))));
  }

  public Command.ListJournal journal(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "orgId", "limit", "before"));
    return new Command.ListJournal(account(in), limit(in), before(in));
  }

  public Command.Refer refer(JsonObject body) {
    Input in = Input.of(body, Set.of("operationId", "referrerId", "referredId", "credits"));
    String operationId = in.id("operationId");
    String referrerId = in.id("referrerId");
    String referredId = in.id("referredId");
    long credits = in.integer("credits", 1, maxCredits);
    if (referrerId.equals(referredId)) {
      throw Input.invalid("referredId", "must differ from referrerId");
    }
    return new Command.Refer(operationId, referrerId, referredId, credits);
  }

  public Command.ApplyReset applyReset(JsonObject body) {
    return new Command.ApplyReset(Input.of(body, Set.of("userId")).id("userId"));
  }

  public Command.RunResets runResets(JsonObject body) {
    Input.of(body, Set.of());
    return new Command.RunResets();
  }

  public Command.ListOutbox listOutbox(JsonObject body) {
    Input in = Input.of(body, Set.of("status", "limit", "before"));
    String name = in.optionalString("status", 16);
    OutboxStatus status = name == null ? null : OutboxStatus.fromWire(name);
    if (name != null && status == null) {
      throw Input.invalid("status", "must be one of pending, delivered, dead");
    }
    return new Command.ListOutbox(status, limit(in), before(in));
  }

  public Command.RetryOutbox retryOutbox(JsonObject body) {
    return new Command.RetryOutbox(Input.of(body, Set.of("outboxId")).integer("outboxId", 1, Long.MAX_VALUE));
  }

  /** Read leniently: what is not Stripe's is refused by the signature check, which needs the raw text. */
  public Command.StripeWebhook stripeWebhook(JsonObject body) {
    String payload = body.getValue("payload") instanceof String p ? p : "";
    String signature = body.getValue("signature") instanceof String s && !s.isBlank() ? s : null;
    return new Command.StripeWebhook(payload, signature);
  }

  public Command.PutApiKey putApiKey(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "type", "apiKey"));
    vaultOn();
    String userId = in.id("userId");
    String type = keyType(in);
    String apiKey = in.string("apiKey", KEY_MAX);
    if (!apiKey.equals(apiKey.strip()) || apiKey.chars().anyMatch(Character::isISOControl)) {
      throw Input.invalid("apiKey", "must not contain spaces at the ends or control characters");
    }
    return new Command.PutApiKey(userId, type, apiKey);
  }

  public Command.ApiKeyRef apiKeyRef(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "type"));
    vaultOn();
    String userId = in.id("userId");
    return new Command.ApiKeyRef(userId, keyType(in));
  }

  public Command.RunAudit audit(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "orgId"));
    return new Command.RunAudit(in.has("userId") || in.has("orgId") ? account(in) : null);
  }

  public Command.Reconcile reconcile(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "repair"));
    return new Command.Reconcile(in.has("userId") ? in.id("userId") : null, in.optionalBoolean("repair", false));
  }

  public Command.LastReconcile lastReconcile(JsonObject body) {
    Input.of(body, Set.of());
    return new Command.LastReconcile();
  }

  private void vaultOn() {
    if (!vaultOn) {
      throw new LedgerException(ErrorCode.VAULT_NOT_CONFIGURED,
          "The API-key vault is off: API_KEY_ENCRYPTION_SECRET is not set");
    }
  }

  private String keyType(Input in) {
    String type = in.string("type", 64);
    if (!apiKeyTypes.contains(type)) {
      throw new LedgerException(ErrorCode.UNKNOWN_KEY_TYPE, "Key type must be one of " + String.join(", ", apiKeyTypes));
    }
    return type;
  }

  /**
   * An endpoint: {@code url} absolute http(s), {@code events} a non-empty array of event types, {@code secret}
   * optional ({@code whsec_} and 24 to 64 bytes in base64).
   */
  public Command.PutWebhookEndpoint putWebhookEndpoint(JsonObject body) {
    Input in = Input.of(body, Set.of("endpointId", "url", "events", "secret"));
    String endpointId = in.id("endpointId");
    String url = in.string("url", URL_MAX);
    if (!webUrl(url)) {
      throw Input.invalid("url", "must be an absolute http or https URL");
    }
    if (!(body.getValue("events") instanceof JsonArray names) || names.isEmpty()) {
      throw body.getValue("events") == null ? Input.missing("events")
          : Input.invalid("events", "must be a non-empty array of event types");
    }
    List<EventType> types = new ArrayList<>();
    for (Object name : names) {
      EventType type = name instanceof String n ? EventType.fromWire(n) : null;
      if (type == null) {
        throw Input.invalid("events", "must name only " + Arrays.stream(EventType.values()).map(EventType::wire)
            .collect(Collectors.joining(", ")));
      }
      if (!types.contains(type)) {
        types.add(type);
      }
    }
    String secret = in.optionalString("secret", 200);
    if (secret != null && !webhookSecret(secret)) {
      throw Input.invalid("secret", "must be whsec_ followed by 24 to 64 bytes in base64");
    }
    return new Command.PutWebhookEndpoint(endpointId, url, List.copyOf(types), secret);
  }

  public Command.DeleteWebhookEndpoint webhookEndpointRef(JsonObject body) {
    return new Command.DeleteWebhookEndpoint(Input.of(body, Set.of("endpointId")).id("endpointId"));
  }

  public Command.ListWebhookEndpoints listWebhookEndpoints(JsonObject body) {
    Input.of(body, Set.of());
    return new Command.ListWebhookEndpoints();
  }

  public Command.ListWebhookDeliveries listWebhookDeliveries(JsonObject body) {
    Command.ListOutbox like = listOutbox(body);
    return new Command.ListWebhookDeliveries(like.status(), like.limit(), like.before());
  }

  public Command.RetryWebhookDelivery retryWebhookDelivery(JsonObject body) {
    return new Command.RetryWebhookDelivery(
        Input.of(body, Set.of("deliveryId")).integer("deliveryId", 1, Long.MAX_VALUE));
  }

  private static boolean webUrl(String url) {
    try {
      URI uri = new URI(url);
      return uri.isAbsolute() && uri.getHost() != null
          && ("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()));
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static boolean webhookSecret(String secret) {
    if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) {
      return false;
    }
    try {
      int bytes = Base64.getDecoder().decode(secret.substring(WEBHOOK_SECRET_PREFIX.length())).length;
      return bytes >= 24 && bytes <= 64;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** {@code amount} at least {@code AUTO_TOP_UP_MIN_CREDITS}, {@code threshold} from 0. */
  public Command.PutAutoTopUp putAutoTopUp(JsonObject body) {
    Input in = Input.of(body, Set.of("userId", "orgId", "enabled", "threshold", "amount", "paymentMethodId"));
    String userId = account(in);
    if (!(body.getValue("enabled") instanceof Boolean enabled)) {
      throw body.getValue("enabled") == null ? Input.missing("enabled") : Input.invalid("enabled", "must be true or false");
    }
    long threshold = in.integer("threshold", 0, maxCredits);
    long amount = in.integer("amount", 1, maxCredits);
    if (amount < autoTopUpMinCredits) {
      throw Input.invalid("amount", "must be at least " + autoTopUpMinCredits + " (AUTO_TOP_UP_MIN_CREDITS)");
    }
    String paymentMethodId = in.optionalMatching("paymentMethodId", PAYMENT_METHOD, "a Stripe PaymentMethod id (pm_...)");
    return new Command.PutAutoTopUp(userId, enabled, threshold, amount, paymentMethodId);
  }

  public Command.GetAutoTopUp getAutoTopUp(JsonObject body) {
    return new Command.GetAutoTopUp(account(Input.of(body, Set.of("userId", "orgId"))));
  }

  private static int limit(Input in) {
    return in.has("limit") ? (int) in.integer("limit", 1, MAX_PAGE) : DEFAULT_PAGE;
  }

  private static long before(Input in) {
    return in.has("before") ? in.integer("before", 1, Long.MAX_VALUE) : Long.MAX_VALUE;
  }
}
