package io.creditledger.verticle;

import io.creditledger.api.CommandSender;
import io.creditledger.domain.Command;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Reply;
import io.vertx.core.Future;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The ledger as the HTTP verticle of the same process sees it: the reads ({@link LedgerVerticle#reads}) run right
 * here, in the caller's event loop, through the endpoint the ledger's address serves (the same command, operation
 * and JSON answer, the same failures); every other command goes over the event bus. A read then costs no event-bus
 * hop: no message, no reply handler and no hand-over to another event loop and back, which was the largest share of
 * a balance read's CPU left to cut (bench/jfr-profile.md).
 */
public final class InProcessLedger implements CommandSender {
  private final CommandSender bus;
  private final Map<String, Endpoint<?, ?>> reads = new HashMap<>();

  public InProcessLedger(Wiring wiring, CommandSender bus) {
    this.bus = bus;
    LedgerVerticle.reads(wiring).forEach(read -> reads.put(read.address(), read));
  }

  @Override
  public Future<Reply> send(String address, Command command, long timeoutMs) {
    Endpoint<?, ?> read = reads.get(address);
    if (read == null) {
      return bus.send(address, command, timeoutMs);
    }
    return read.answer(command).timeout(timeoutMs, TimeUnit.MILLISECONDS).recover(failure -> Future.failedFuture(
        failure instanceof TimeoutException
            ? new LedgerException(ErrorCode.LEDGER_TIMEOUT, "The ledger did not answer in time")
            : Endpoints.asLedgerException(address, failure)));
  }
}
