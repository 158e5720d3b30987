package io.creditledger.service;

import io.creditledger.domain.OutboxStatus;

import io.creditledger.store.OutboxStore;
import io.creditledger.wire.Input;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Reply;
import io.creditledger.config.LedgerConfig;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;

import java.util.Set;

/** The operators' view of the outbox: list rows by status, put a dead row back in line. */
public final class OutboxAdminService {

  private final Pool pool;
  private final LedgerConfig config;
  private final OutboxStore store;

  public OutboxAdminService(Pool pool, LedgerConfig config, OutboxStore store) {
    this.pool = pool;
    this.config = config;
    this.store = store;
  }

  public Future<Reply> list(JsonObject body) {
    Input in = Input.of(body, Set.of("status", "limit", "before"));
    String statusName = in.optionalString("status", 16);
    OutboxStatus status = statusName == null ? null : OutboxStatus.fromWire(statusName);
    if (statusName != null && status == null) {
      throw Input.invalid("status", "must be one of pending, delivered, dead");
    }
    int limit = in.has("limit") ? (int) in.integer("limit", 1, 500) : 100;
    long before = in.has("before") ? in.integer("before", 1, Long.MAX_VALUE) : Long.MAX_VALUE;
    return store.list(pool, status, before, limit).map(rows -> {
      JsonArray out = new JsonArray();
      rows.forEach(r -> out.add(r.toJson()));
      return Reply.ok(new JsonObject().put("rows", out)
          .put("nextBefore", rows.size() == limit ? rows.get(rows.size() - 1).outboxId() : null));
    });
  }

  public Future<Reply> retry(JsonObject body) {
    long id = Input.of(body, Set.of("outboxId")).integer("outboxId", 1, Long.MAX_VALUE);
    return store.retry(pool, id, Now.of(config.clock())).map(row -> {
      if (row == null) {
        throw new LedgerException(ErrorCode.OUTBOX_ROW_NOT_FOUND, "No outbox row " + id);
      }
      if (row.status() == OutboxStatus.DELIVERED) {
        throw new LedgerException(ErrorCode.ALREADY_DELIVERED, "Outbox row " + id + " was already delivered");
      }
      return Reply.ok(row.toJson());
    });
  }
}
