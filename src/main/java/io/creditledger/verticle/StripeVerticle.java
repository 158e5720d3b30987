package io.creditledger.verticle;

import io.creditledger.api.Addresses;
import io.creditledger.domain.Command;
import io.creditledger.wire.Commands;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

import java.util.List;

/**
 * The outbound side's addresses: Stripe's webhook, the operators' outbox view, reconciliation with Stripe, auto
 * top-up settings, and the host's webhook endpoints and their deliveries.
 */
public final class StripeVerticle extends VerticleBase {
  private final Wiring wiring;

  public StripeVerticle(Wiring wiring) {
    this.wiring = wiring;
  }

  @Override
  public Future<?> start() {
    Endpoints e = new Endpoints(vertx.eventBus());
    Commands in = wiring.commands();
    return Future.all(List.of(
        e.serve(Addresses.STRIPE_WEBHOOK, Command.StripeWebhook.class, in::stripeWebhook, wiring.webhooks()::handle,
            Json::webhook),
        e.serve(Addresses.OUTBOX_LIST, Command.ListOutbox.class, in::listOutbox, wiring.outbox()::list,
            Json::outboxRows),
        e.serve(Addresses.OUTBOX_RETRY, Command.RetryOutbox.class, in::retryOutbox, wiring.outbox()::retry,
            Json::outboxRow),
        e.serve(Addresses.STRIPE_RECONCILE, Command.Reconcile.class, in::reconcile, wiring.reconcile()::run,
            Json::reconcileRun),
        e.serve(Addresses.STRIPE_RECONCILE_LAST, Command.LastReconcile.class, in::lastReconcile,
            wiring.reconcile()::last, Json::reconcileRun),
        e.serve(Addresses.AUTO_TOP_UP_PUT, Command.PutAutoTopUp.class, in::putAutoTopUp, wiring.autoTopUps()::put,
            Json::autoTopUp),
        e.serve(Addresses.AUTO_TOP_UP_GET, Command.GetAutoTopUp.class, in::getAutoTopUp, wiring.autoTopUps()::get,
            Json::autoTopUp),
        e.serve(Addresses.WEBHOOK_ENDPOINT_PUT, Command.PutWebhookEndpoint.class, in::putWebhookEndpoint,
            wiring.events()::put, Json::webhookEndpoint),
        e.serve(Addresses.WEBHOOK_ENDPOINT_LIST, Command.ListWebhookEndpoints.class, in::listWebhookEndpoints,
            wiring.events()::list, Json::webhookEndpoints),
        e.serve(Addresses.WEBHOOK_ENDPOINT_DELETE, Command.DeleteWebhookEndpoint.class, in::webhookEndpointRef,
            wiring.events()::delete, Json::webhookEndpoint),
        e.serve(Addresses.WEBHOOK_DELIVERY_LIST, Command.ListWebhookDeliveries.class, in::listWebhookDeliveries,
            wiring.events()::deliveries, Json::webhookDeliveries),
        e.serve(Addresses.WEBHOOK_DELIVERY_RETRY, Command.RetryWebhookDelivery.class, in::retryWebhookDelivery,
            wiring.events()::retry, Json::webhookDelivery)));
  }
}
