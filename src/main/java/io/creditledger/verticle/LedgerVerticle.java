package io.creditledger.verticle;

import io.creditledger.api.Addresses;
import io.creditledger.domain.Command;
import io.creditledger.wire.Commands;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

import java.util.ArrayList;
import java.util.List;

/**
 * The ledger's reads and per-user operations: users, grant lists, balances, the journal and readiness. The
 * balance-changing operations (resets among them) are {@link LedgerWriterVerticle}'s. Co-deployed verticles of a
 * host application reach them over the event bus; the HTTP verticle runs the reads ({@link #reads}) in its own
 * event loop ({@link InProcessLedger}) through the same endpoints.
 */
public final class LedgerVerticle extends VerticleBase {
  private final Wiring wiring;

  public LedgerVerticle(Wiring wiring) {
    this.wiring = wiring;
  }

  /** The reads: they hold no lock and write nothing but a due reset, so any event loop may run them. */
  static List<Endpoint<?, ?>> reads(Wiring wiring) {
    Commands in = wiring.commands();
    return List.of(
        new Endpoint<>(Addresses.USER_GET, Command.GetUser.class, in::getUser, wiring.users()::get, Json::user),
        new Endpoint<>(Addresses.GRANT_LIST, Command.ListGrants.class, in::listGrants, wiring.ledger()::listGrants,
            Json::grants),
        new Endpoint<>(Addresses.BALANCE, Command.GetBalance.class, in::balance, wiring.ledger()::balance,
            Json::balance),
        new Endpoint<>(Addresses.JOURNAL, Command.ListJournal.class, in::journal, wiring.ledger()::journal,
            Json::entries),
        new Endpoint<>(Addresses.HOLD_GET, Command.GetHold.class, in::getHold, wiring.holds()::get,
            Json::holdAnswer),
        new Endpoint<>(Addresses.HOLD_LIST, Command.ListHolds.class, in::listHolds, wiring.holds()::list,
            Json::holds));
  }

  @Override
  public Future<?> start() {
    Endpoints e = new Endpoints(vertx.eventBus());
    Commands in = wiring.commands();
    List<Future<Void>> served = new ArrayList<>();
    served.add(e.serve(Addresses.READY, Command.Ready.class, in::ready, wiring.readiness()::check, Json::readiness));
    served.add(e.serve(Addresses.USER_PUT, Command.PutUser.class, in::putUser, wiring.users()::put, Json::user));
    served.add(e.serve(Addresses.ORG_PUT, Command.PutOrg.class, in::putOrg, wiring.orgs()::put, Json::org));
    served.add(e.serve(Addresses.ORG_GET, Command.GetOrg.class, in::getOrg, wiring.orgs()::get, Json::org));
    served.add(e.serve(Addresses.ORG_MEMBER_PUT, Command.PutOrgMember.class, in::putOrgMember,
        wiring.orgs()::putMember, Json::orgMember));
    served.add(e.serve(Addresses.ORG_MEMBER_DELETE, Command.DeleteOrgMember.class, in::deleteOrgMember,
        wiring.orgs()::deleteMember, Json::orgMember));
    served.add(e.serve(Addresses.ORG_MEMBER_LIST, Command.ListOrgMembers.class, in::listOrgMembers,
        wiring.orgs()::members, Json::orgMembers));
    served.add(e.serve(Addresses.ORG_USAGE, Command.GetOrgUsage.class, in::orgUsage, wiring.orgs()::usage,
        Json::orgUsage));
    reads(wiring).forEach(read -> served.add(e.serve(read)));
    return Future.all(served);
  }
}
