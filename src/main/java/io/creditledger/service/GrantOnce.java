package io.creditledger.service;

import io.creditledger.domain.Answer;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.OperationKind;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;

/**
 * A grant asked for with its own operationId (the grants API, a Stripe purchase): written once. The same
 * operationId again replays the stored answer for the same request and is refused (409) for any other.
 */
public final class GrantOnce {
  private final UserLocks locks;
  private final GrantWriter grants;

  public GrantOnce(UserLocks locks, GrantWriter grants) {
    this.locks = locks;
    this.grants = grants;
  }

  /** Runs inside the caller's transaction. */
  public Future<Answer<GrantView.Created>> write(SqlConnection conn, String userId, GrantWriter.Spec spec, Instant now) {
    return locks.lockForOperation(conn, userId, spec.operationId(), now).compose(locked -> {
      if (locked.operation().isPresent()) {
        return Future.succeededFuture(Idempotency.replayOrConflict(locked.operation().get(), spec.operationId(),
            OperationKind.GRANT, spec.canonical(userId), Json::readCreated));
      }
      return grants.write(conn, locked.user(), spec, now).map(w -> Answer.created(w.answer()));
    });
  }
}
