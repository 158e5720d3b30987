package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.OutboxStatus;
import io.creditledger.domain.Page;
import io.creditledger.domain.WebhookDelivery;
import io.creditledger.domain.WebhookEndpoint;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.store.EventStore;
import io.creditledger.store.Stores;
import io.creditledger.time.Now;
import io.creditledger.wire.Commands;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;

/** The operators' side of events: webhook endpoints, and the deliveries to them (listed, put back in line). */
public final class EventAdminService {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int SECRET_BYTES = 32;

  private final Pool pool;
  private final LedgerConfig config;
  private final EventStore store;

  public EventAdminService(Pool pool, LedgerConfig config, Stores stores) {
    this.pool = pool;
    this.config = config;
    this.store = stores.events();
  }

  /**
   * Creates or replaces an endpoint. A new endpoint without a secret gets a generated one; the answer shows the
   * secret only when this request set it (generated or given), the one time it is shown.
   */
  public Future<Answer<WebhookEndpoint>> put(Command.PutWebhookEndpoint c) {
    boolean given = c.secret() != null;
    String secret = given ? c.secret() : generatedSecret();
    WebhookEndpoint wanted = new WebhookEndpoint(c.endpointId(), c.url(), c.eventTypes(), secret, null, null);
    return store.putEndpoint(pool, wanted, given, Now.of(config.clock())).map(put -> {
      boolean shown = put.created() || given;
      WebhookEndpoint endpoint = shown ? put.endpoint() : put.endpoint().withoutSecret();
      return put.created() ? Answer.created(endpoint) : Answer.ok(endpoint);
    });
  }

  public Future<Answer<List<WebhookEndpoint>>> list(Command.ListWebhookEndpoints c) {
    return store.endpoints(pool).map(Answer::ok);
  }

  public Future<Answer<WebhookEndpoint>> delete(Command.DeleteWebhookEndpoint c) {
    return store.deleteEndpoint(pool, c.endpointId()).map(gone -> Answer.ok(gone.orElseThrow(
        () -> new LedgerException(ErrorCode.WEBHOOK_ENDPOINT_NOT_FOUND, "No webhook endpoint " + c.endpointId()))));
  }

  public Future<Answer<Page<WebhookDelivery>>> deliveries(Command.ListWebhookDeliveries c) {
    return store.deliveries(pool, c.status(), c.before(), c.limit())
        .map(rows -> Answer.ok(Page.of(rows, c.limit(), WebhookDelivery::deliveryId)));
  }

  public Future<Answer<WebhookDelivery>> retry(Command.RetryWebhookDelivery c) {
    return store.retry(pool, c.deliveryId(), Now.of(config.clock())).map(found -> {
      WebhookDelivery delivery = found.orElseThrow(() -> new LedgerException(ErrorCode.WEBHOOK_DELIVERY_NOT_FOUND,
          "No webhook delivery " + c.deliveryId()));
      if (delivery.status() == OutboxStatus.DELIVERED) {
        throw new LedgerException(ErrorCode.ALREADY_DELIVERED,
            "Webhook delivery " + c.deliveryId() + " was already delivered");
      }
      return Answer.ok(delivery);
    });
  }

  /** {@code whsec_} and 32 random bytes in base64, as Standard Webhooks secrets are written. */
  static String generatedSecret() {
    byte[] key = new byte[SECRET_BYTES];
    RANDOM.nextBytes(key);
    return Commands.WEBHOOK_SECRET_PREFIX + Base64.getEncoder().encodeToString(key);
  }
}
