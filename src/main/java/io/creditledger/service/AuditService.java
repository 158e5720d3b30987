package io.creditledger.service;

import io.creditledger.store.LedgerAudit;
import io.creditledger.wire.Input;
import io.creditledger.wire.Reply;
import io.creditledger.config.LedgerConfig;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;

import java.util.Set;

/** The audit over the event bus ({@code ledger.audit}) and HTTP ({@code GET /v1/admin/audit}). */
public final class AuditService {
  private final Pool pool;
  private final LedgerAudit audit;

  public AuditService(Pool pool, LedgerConfig config) {
    this.pool = pool;
    this.audit = new LedgerAudit(config);
  }

  /** {@code {userId?}} → {@code {ok, checkedAt, userId, problems}}. */
  public Future<Reply> run(JsonObject body) {
    Input in = Input.of(body, Set.of("userId"));
    String userId = in.has("userId") ? in.id("userId") : null;
    return audit.run(pool, userId).map(Reply::ok);
  }
}
