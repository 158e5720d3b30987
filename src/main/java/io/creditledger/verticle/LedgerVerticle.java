package io.creditledger.verticle;

import io.creditledger.api.Addresses;
import io.creditledger.domain.Command;
import io.creditledger.wire.Commands;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

import java.util.List;

/**
 * The ledger's reads and per-user operations: users, grant lists, balances, the journal and readiness. The
 * balance-changing operations (resets among them) are {@link LedgerWriterVerticle}'s. The HTTP verticle and co-deployed verticles of a
 * host application go through the same code.
 */
public final class LedgerVerticle extends VerticleBase {
  private final Wiring wiring;

  public LedgerVerticle(Wiring wiring) {
    this.wiring = wiring;
  }

  @Override
  public Future<?> start() {
    Endpoints e = new Endpoints(vertx.eventBus());
    Commands in = wiring.commands();
    return Future.all(List.of(
        e.serve(Addresses.READY, Command.Ready.class, in::ready, wiring.readiness()::check, Json::readiness),
        e.serve(Addresses.USER_PUT, Command.PutUser.class, in::putUser, wiring.users()::put, Json::user),
        e.serve(Addresses.USER_GET, Command.GetUser.class, in::getUser, wiring.users()::get, Json::user),
        e.serve(Addresses.GRANT_LIST, Command.ListGrants.class, in::listGrants, wiring.ledger()::listGrants, Json::grants),
        e.serve(Addresses.BALANCE, Command.GetBalance.class, in::balance, wiring.ledger()::balance, Json::balance),
        e.serve(Addresses.JOURNAL, Command.ListJournal.class, in::journal, wiring.ledger()::journal, Json::entries)));
  }
}
