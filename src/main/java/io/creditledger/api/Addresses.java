package io.creditledger.api;

import io.creditledger.error.LedgerException;
/**
 * The ledger's event-bus addresses. Requests and replies are JSON objects; failures are replies failed with
 * the HTTP-like status as failure code and {@code {"code","message"}} as message (see {@link LedgerException}).
 */
public final class Addresses {
  public static final String READY = "ledger.ready";
  public static final String USER_PUT = "ledger.users.put";
  public static final String USER_GET = "ledger.users.get";
  public static final String GRANT_CREATE = "ledger.grants.create";
  public static final String GRANT_LIST = "ledger.grants.list";
  public static final String GRANT_REVOKE = "ledger.grants.revoke";
  public static final String CONSUME = "ledger.consume";
  public static final String BALANCE = "ledger.balance";
  public static final String JOURNAL = "ledger.journal";
  public static final String HOLD_PLACE = "ledger.holds.place";
  public static final String HOLD_CAPTURE = "ledger.holds.capture";
  public static final String HOLD_RELEASE = "ledger.holds.release";
  public static final String HOLD_GET = "ledger.holds.get";
  public static final String HOLD_LIST = "ledger.holds.list";
  public static final String REFERRAL_CREATE = "ledger.referrals.create";
  public static final String OUTBOX_LIST = "ledger.outbox.list";
  public static final String OUTBOX_RETRY = "ledger.outbox.retry";
  public static final String AUTO_TOP_UP_PUT = "ledger.autotopup.put";
  public static final String AUTO_TOP_UP_GET = "ledger.autotopup.get";
  public static final String ORG_PUT = "ledger.orgs.put";
  public static final String ORG_GET = "ledger.orgs.get";
  public static final String ORG_MEMBER_PUT = "ledger.orgs.members.put";
  public static final String ORG_MEMBER_DELETE = "ledger.orgs.members.delete";
  public static final String ORG_MEMBER_LIST = "ledger.orgs.members.list";
  public static final String ORG_USAGE = "ledger.orgs.usage";
  public static final String WEBHOOK_ENDPOINT_PUT = "ledger.webhooks.endpoints.put";
  public static final String WEBHOOK_ENDPOINT_LIST = "ledger.webhooks.endpoints.list";
  public static final String WEBHOOK_ENDPOINT_DELETE = "ledger.webhooks.endpoints.delete";
  public static final String WEBHOOK_DELIVERY_LIST = "ledger.webhooks.deliveries.list";
  public static final String WEBHOOK_DELIVERY_RETRY = "ledger.webhooks.deliveries.retry";
  /** Where each committed event is published (not sent: every consumer gets it), as {eventId, type, userId, timestamp, data}. */
  public static final String EVENTS = "ledger.events";
  public static final String STRIPE_WEBHOOK = "ledger.stripe.webhook";
  public static final String RESET_APPLY = "ledger.resets.apply";
  public static final String RESETS_RUN = "ledger.resets.run";
  public static final String API_KEY_PUT = "ledger.apikeys.put";
  public static final String API_KEY_GET = "ledger.apikeys.get";
  public static final String API_KEY_DELETE = "ledger.apikeys.delete";
  public static final String AUDIT = "ledger.audit";
  public static final String STRIPE_RECONCILE = "ledger.stripe.reconcile";
  public static final String STRIPE_RECONCILE_LAST = "ledger.stripe.reconcile.last";

  private Addresses() {
  }
}
