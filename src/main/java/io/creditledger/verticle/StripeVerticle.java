package io.creditledger.verticle;

import io.creditledger.api.Addresses;
import io.creditledger.domain.Command;
import io.creditledger.wire.Commands;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

import java.util.List;

/** The Stripe mirror's addresses: Stripe's webhook, the operators' outbox view, and reconciliation with Stripe. */
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
            wiring.reconcile()::last, Json::reconcileRun)));
  }
}
