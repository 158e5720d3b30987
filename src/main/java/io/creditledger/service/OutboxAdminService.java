package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.OutboxStatus;
import io.creditledger.domain.Page;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.store.EventStore;
import io.creditledger.store.OutboxStore;
import io.creditledger.store.Stores;
import io.creditledger.stripe.OutboxRow;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

import java.time.Instant;
import java.util.List;

/** The operators' view of the outbox: list rows by status, put a dead row back in line. */
public final class OutboxAdminService {
  private final Pool pool;
  private final LedgerConfig config;
  private final OutboxStore store;
  private final EventStore events;

  public OutboxAdminService(Pool pool, LedgerConfig config, Stores stores) {
    this.pool = pool;
    this.config = config;
    this.store = stores.outbox();
    this.events = stores.events();
  }

  public Future<Answer<Page<OutboxRow>>> list(Command.ListOutbox c) {
    return store.list(pool, c.status(), c.before(), c.limit())
        .map(rows -> Answer.ok(Page.of(rows, c.limit(), OutboxRow::outboxId)));
  }

  /**
   * The relay's record of a failed attempt; a row that goes dead raises {@code stripe.sync_dead} in the same
   * transaction ({@code data}: the row as {@code GET /v1/admin/outbox} lists it, with this failure).
   */
  public Future<Void> failed(OutboxRow row, String owner, String error, boolean dead, Instant nextAttemptAt,
                             Instant now) {
    if (!dead) {
      return store.failed(pool, row, owner, error, false, nextAttemptAt, now).mapEmpty();
    }
    return pool.withTransaction(conn -> store.failed(conn, row, owner, error, true, nextAttemptAt, now)
        .compose(recorded -> !recorded ? Future.succeededFuture()
            : events.append(conn, List.of(LedgerEvents.syncDead(row, error)), now)));
  }

  public Future<Answer<OutboxRow>> retry(Command.RetryOutbox c) {
    return store.retry(pool, c.outboxId(), Now.of(config.clock())).map(found -> {
      OutboxRow row = found.orElseThrow(
          () -> new LedgerException(ErrorCode.OUTBOX_ROW_NOT_FOUND, "No outbox row " + c.outboxId()));
      if (row.status() == OutboxStatus.DELIVERED) {
        throw new LedgerException(ErrorCode.ALREADY_DELIVERED, "Outbox row " + c.outboxId() + " was already delivered");
      }
      return Answer.ok(row);
    });
  }
}
