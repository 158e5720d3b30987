package io.creditledger.verticle;

import io.creditledger.api.Addresses;
import io.creditledger.domain.Command;
import io.creditledger.wire.Commands;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

import java.util.List;

/** The API-key vault's addresses. */
public final class VaultVerticle extends VerticleBase {
  private final Wiring wiring;

  public VaultVerticle(Wiring wiring) {
    this.wiring = wiring;
  }

  @Override
  public Future<?> start() {
    Endpoints e = new Endpoints(vertx.eventBus());
    Commands in = wiring.commands();
    return Future.all(List.of(
        e.serve(Addresses.API_KEY_PUT, Command.PutApiKey.class, in::putApiKey, wiring.vault()::encryptAndStoreApiKey,
            Json::apiKey),
        e.serve(Addresses.API_KEY_GET, Command.ApiKeyRef.class, in::apiKeyRef, wiring.vault()::retrieveAndDecryptApiKey,
            Json::apiKey),
        e.serve(Addresses.API_KEY_DELETE, Command.ApiKeyRef.class, in::apiKeyRef, wiring.vault()::clearApiKey,
            Json::apiKey)));
  }
}
