package io.creditledger.service;

import io.creditledger.domain.OperationKind;

import io.creditledger.store.LedgerStore;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Reply;

/**
 * operationIds are globally unique. The same id with the same request is a replay and gets the stored answer;
 * the same id with anything else (another operation, another user, another amount) is a conflict.
 */
final class Idempotency {
  private Idempotency() {
  }

  static Reply replayOrConflict(LedgerStore.StoredOperation stored, String operationId, OperationKind kind,
                                String request) {
    if (stored.kind().equals(kind.wire()) && stored.request().equals(request)) {
      return Reply.replay(stored.status(), stored.response());
    }
    throw conflict(operationId);
  }

  static LedgerException conflict(String operationId) {
    return new LedgerException(ErrorCode.OPERATION_CONFLICT, "operationId \"" + operationId
        + "\" was already used for a different request");
  }
}
