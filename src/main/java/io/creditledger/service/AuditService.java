package io.creditledger.service;

import io.creditledger.domain.Answer;
import io.creditledger.domain.AuditReport;
import io.creditledger.domain.Command;
import io.creditledger.metrics.LedgerMeters;
import io.creditledger.store.LedgerAudit;
import io.creditledger.store.Stores;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

/** The audit over the event bus ({@code ledger.audit}) and HTTP ({@code GET /v1/admin/audit}). */
public final class AuditService {
  private final Pool pool;
  private final LedgerMeters meters;
  private final LedgerAudit audit;

  public AuditService(Pool pool, Stores stores, LedgerMeters meters) {
    this.pool = pool;
    this.audit = stores.audit();
    this.meters = meters;
  }

  public Future<Answer<AuditReport>> run(Command.RunAudit c) {
    return audit.run(pool, c.userId())
        .onSuccess(report -> {
          if (c.userId() == null) {
            meters.auditProblems(report.problems().size()); // the whole ledger's audit
          }
        })
        .map(Answer::ok);
  }
}
