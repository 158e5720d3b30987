package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.Hold;
import io.creditledger.domain.HoldAnswer;
import io.creditledger.error.LedgerException;
import io.creditledger.store.HoldStore;
import io.creditledger.store.Stores;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.util.List;

/**
 * Holds as they are read, and the sweeper that marks those past their expiry as expired. Placing, capturing and
 * releasing change what a user may spend, so they are writes ({@link WriteBatch}).
 */
public final class HoldService {
  /** The most holds one sweep statement expires. */
  public static final int SWEEP_BATCH = 1000;

  private final Pool pool;
  private final SqlClient reads;
  private final LedgerConfig config;
  private final HoldStore holds;
  private final ResetService resets;

  public HoldService(Pool pool, SqlClient reads, LedgerConfig config, Stores stores, ResetService resets) {
    this.pool = pool;
    this.reads = reads;
    this.config = config;
    this.holds = stores.holds();
    this.resets = resets;
  }

  /** The hold as of now (a held one past its expiry reads as expired). */
  public Future<Answer<HoldAnswer>> get(Command.GetHold c) {
    Instant now = Now.of(config.clock());
    return holds.get(reads, c.userId(), c.holdId()).compose(found -> found.isPresent()
        ? Future.succeededFuture(Answer.ok(new HoldAnswer(found.get().asOf(now), null)))
        // an unknown user is told so rather than that the hold is missing
        : resets.currentUser(c.userId(), now).map(user -> {
          throw LedgerException.holdNotFound(c.userId(), c.holdId());
        }));
  }

  /** The user's holds, newest first, in one state or all. */
  public Future<Answer<List<Hold>>> list(Command.ListHolds c) {
    Instant now = Now.of(config.clock());
    return resets.currentUser(c.userId(), now)
        .compose(user -> holds.list(reads, c.userId(), c.state(), now, c.limit()))
        .map(list -> Answer.ok(list.stream().map(h -> h.asOf(now)).toList()));
  }

  /** Expires every hold past its expiry, a batch at a time; answers how many. */
  public Future<Integer> sweep() {
    return sweepFrom(0);
  }

  private Future<Integer> sweepFrom(int done) {
    return holds.sweep(pool, Now.of(config.clock()), SWEEP_BATCH)
        .compose(n -> n < SWEEP_BATCH ? Future.succeededFuture(done + n) : sweepFrom(done + n));
  }
}
