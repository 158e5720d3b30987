package io.creditledger.service;

import io.creditledger.domain.Answer;
import io.creditledger.domain.OperationKind;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.store.LedgerStore;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * operationIds are globally unique. The same id with the same request is a replay and gets the stored answer (read
 * back with the same code that wrote it); the same id with anything else (another operation, another user, another
 * amount) is a conflict.
 */
final class Idempotency {
  private Idempotency() {
  }

  static <T> Answer<T> replayOrConflict(LedgerStore.StoredOperation stored, String operationId, OperationKind kind,
                                        String request, Function<JsonObject, T> read) {
    if (stored.kind().equals(kind.wire()) && stored.request().equals(request)) {
      return Answer.replay(read.apply(stored.response()), stored.status() == 201);
    }
    throw conflict(operationId);
  }

  static LedgerException conflict(String operationId) {
    return new LedgerException(ErrorCode.OPERATION_CONFLICT, "operationId \"" + operationId
        + "\" was already used for a different request");
  }
}
