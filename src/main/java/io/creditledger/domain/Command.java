package io.creditledger.domain;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What each ledger address is asked, as read once from a request (HTTP or the event bus) by the wire package's
 * parser, or built directly by the typed client. Services take these and nothing else.
 */
public sealed interface Command {
  /** A write about one user. */
  interface ForUser {
    String userId();
  }

  /**
   * A write about one user that the write batch decides in memory and records by its operationId (a replay of a
   * stored one answers what was stored).
   */
  interface Recorded extends ForUser {
    String operationId();
  }

  record Ready() implements Command {
  }

  /**
   * Creates the user or updates it. On update, null fields keep their value; {@code clearStripeCustomer} unlinks
   * the Stripe customer and {@code setReferralLimit} with a null limit restores the default.
   */
  record PutUser(String userId, String email, String stripeCustomerId, boolean clearStripeCustomer,
                 BigDecimal centsPerCredit, boolean setReferralLimit, Integer referralLimit) implements Command {
  }

  record GetUser(String userId) implements Command {
  }

  record GrantCredits(String userId, String operationId, GrantType type, long amount, String description,
                      Instant expiresAt) implements Command, Recorded {
  }

  record ListGrants(String userId, int limit, long before) implements Command {
  }

  record Revoke(String operationId, String reason) implements Command {
  }

  /**
   * Spends {@code amount} from the account {@code userId}; for an org's pool ({@code org/<orgId>}), {@code memberId}
   * is the member who spends (null for a user's own credits).
   */
  record Consume(String userId, String operationId, long amount, String memberId) implements Command, Recorded {
  }

  record GetBalance(String userId) implements Command {
  }

  /** Reserves {@code amount} credits for {@code ttl}; the hold's id is {@code operationId}. */
  /** On an org's pool ({@code userId} the org's account key), {@code memberId} is the member it is for. */
  record PlaceHold(String userId, String operationId, long amount, Duration ttl, String memberId)
      implements Command, Recorded {
  }

  record CaptureHold(String userId, String holdId, String operationId, long amount) implements Command, Recorded {
  }

  record ReleaseHold(String userId, String holdId) implements Command, ForUser {
  }

  record GetHold(String userId, String holdId) implements Command {
  }

  /** @param state null: every state */
  record ListHolds(String userId, Hold.State state, int limit) implements Command {
  }

  record ListJournal(String userId, int limit, long before) implements Command {
  }

  record Refer(String operationId, String referrerId, String referredId, long credits) implements Command {
  }

  record ApplyReset(String userId) implements Command, ForUser {
  }

  record RunResets() implements Command {
  }

  /** @param status null: every status */
  record ListOutbox(OutboxStatus status, int limit, long before) implements Command {
  }

  record RetryOutbox(long outboxId) implements Command {
  }

  /** {@code secret} null: one is generated. {@code toString} leaves the secret out. */
  record PutWebhookEndpoint(String endpointId, String url, List<EventType> eventTypes, String secret)
      implements Command {
    @Override
    public String toString() {
      return "PutWebhookEndpoint[endpointId=" + endpointId + ", url=" + url + ", eventTypes=" + eventTypes
          + ", secret=(hidden)]";
    }
  }

  record ListWebhookEndpoints() implements Command {
  }

  /** @param paymentMethodId null: the customer's default */
  record PutAutoTopUp(String userId, boolean enabled, long threshold, long amount, String paymentMethodId)
      implements Command {
  }

  record GetAutoTopUp(String userId) implements Command {
  }

  record DeleteWebhookEndpoint(String endpointId) implements Command {
  }

  /** @param status null: every status */
  record ListWebhookDeliveries(OutboxStatus status, int limit, long before) implements Command {
  }

  record RetryWebhookDelivery(long deliveryId) implements Command {
  }

  /** Stripe's webhook: the raw body and the Stripe-Signature header. */
  record StripeWebhook(String payload, String signature) implements Command {
  }

  /** {@code toString} leaves the key out: a command may be logged or recorded, a key never is. */
  record PutApiKey(String userId, String type, String apiKey) implements Command {
    @Override
    public String toString() {
      return "PutApiKey[userId=" + userId + ", type=" + type + ", apiKey=(hidden)]";
    }
  }

  /** Reads or deletes a key. */
  record ApiKeyRef(String userId, String type) implements Command {
  }

  /** @param userId null: everyone */
  record RunAudit(String userId) implements Command {
  }

  /** @param userId null: every mirrored customer */
  record Reconcile(String userId, boolean repair) implements Command {
  }

  record LastReconcile() implements Command {
  }

  // ---- organizations

  /** Creates or updates an org; null fields keep their value, except as the set/clear flags say. */
  record PutOrg(String orgId, String name, String stripeCustomerId, boolean clearStripeCustomer,
                BigDecimal centsPerCredit, boolean setCreditLimit, Long creditLimit) implements Command {
  }

  record GetOrg(String orgId) implements Command {
  }

  record PutOrgMember(String orgId, String userId, OrgMember.Role role) implements Command {
  }

  record DeleteOrgMember(String orgId, String userId) implements Command {
  }

  record ListOrgMembers(String orgId) implements Command {
  }

  record GetOrgUsage(String orgId, Instant from, Instant to) implements Command {
  }
}
