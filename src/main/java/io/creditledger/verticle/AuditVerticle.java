package io.creditledger.verticle;

import io.creditledger.api.Addresses;
import io.creditledger.domain.Command;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/** The audit's address. */
public final class AuditVerticle extends VerticleBase {
  private final Wiring wiring;

  public AuditVerticle(Wiring wiring) {
    this.wiring = wiring;
  }

  @Override
  public Future<?> start() {
    return new Endpoints(vertx.eventBus()).serve(Addresses.AUDIT, Command.RunAudit.class, wiring.commands()::audit,
        wiring.audit()::run, Json::audit);
  }
}
