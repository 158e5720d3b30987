package io.creditledger.api;

import io.creditledger.domain.Command;
import io.creditledger.wire.Reply;
import io.vertx.core.Future;

/**
 * Where an edge sends the commands it parsed: {@link LedgerClient} sends them over the event bus; the ledger's
 * in-process sender (which {@code CreditLedger} gives the HTTP verticle) runs the reads in the caller's event loop.
 * Failures arrive as {@link io.creditledger.error.LedgerException}.
 */
public interface CommandSender {
  /** Sends {@code command} to the operation at {@code address}; answers its reply, or fails after {@code timeoutMs}. */
  Future<Reply> send(String address, Command command, long timeoutMs);
}
