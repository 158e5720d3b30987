package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.OutboxStatus;
import io.creditledger.domain.Page;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.store.OutboxStore;
import io.creditledger.store.Stores;
import io.creditledger.stripe.OutboxRow;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

/** The operators' view of the outbox: list rows by status, put a dead row back in line. */
public final class OutboxAdminService {
  private final Pool pool;
  private final LedgerConfig config;
  private final OutboxStore store;

  public OutboxAdminService(Pool pool, LedgerConfig config, Stores stores) {
    this.pool = pool;
    this.config = config;
    this.store = stores.outbox();
  }

  public Future<Answer<Page<OutboxRow>>> list(Command.ListOutbox c) {
    return store.list(pool, c.status(), c.before(), c.limit()).map(rows -> Answer.ok(new Page<>(rows,
        rows.size() == c.limit() ? rows.get(rows.size() - 1).outboxId() : null)));
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
