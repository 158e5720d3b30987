package io.creditledger.verticle;

import io.creditledger.api.Addresses;
import io.creditledger.domain.Capture;
import io.creditledger.domain.Command;
import io.creditledger.domain.Consumption;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.HoldAnswer;
import io.creditledger.domain.Referral;
import io.creditledger.domain.ResetOutcome;
import io.creditledger.service.WriteQueue;
import io.creditledger.wire.Commands;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

import java.util.List;

/**
 * The ledger's write path: consumptions, grants, revokes, referrals, holds and resets, queued on this verticle's event loop and
 * written in batches ({@link WriteQueue}). Deploy exactly one per process: batching works because one mailbox
 * sees every write.
 */
public final class LedgerWriterVerticle extends VerticleBase {
  private final Wiring wiring;

  public LedgerWriterVerticle(Wiring wiring) {
    this.wiring = wiring;
  }

  @Override
  public Future<?> start() {
    Endpoints e = new Endpoints(vertx.eventBus());
    Commands in = wiring.commands();
    WriteQueue writes = wiring.writes();
    writes.start(vertx);
    return Future.all(List.of(
        e.serve(Addresses.CONSUME, Command.Consume.class, in::consume, writes::<Consumption>submit,
            Json::consumption),
        e.serve(Addresses.GRANT_CREATE, Command.GrantCredits.class, in::grant, writes::<GrantView.Created>submit,
            Json::created),
        e.serve(Addresses.GRANT_REVOKE, Command.Revoke.class, in::revoke, writes::<GrantView.Revoked>submit,
            Json::revoked),
        e.serve(Addresses.REFERRAL_CREATE, Command.Refer.class, in::refer, writes::<Referral>submit,
            Json::referral),
        e.serve(Addresses.HOLD_PLACE, Command.PlaceHold.class, in::placeHold, writes::<HoldAnswer>submit,
            Json::holdAnswer),
        e.serve(Addresses.HOLD_CAPTURE, Command.CaptureHold.class, in::captureHold, writes::<Capture>submit,
            Json::capture),
        e.serve(Addresses.HOLD_RELEASE, Command.ReleaseHold.class, in::releaseHold, writes::<HoldAnswer>submit,
            Json::holdAnswer),
        e.serve(Addresses.RESET_APPLY, Command.ApplyReset.class, in::applyReset,
            c -> writes.<ResetOutcome>submit(c).recover(failure -> wiring.resets().failed(c.userId(), failure)),
            Json::resetOutcome)));
  }

  @Override
  public Future<?> stop() {
    wiring.writes().stop(vertx);
    return Future.succeededFuture();
  }
}
