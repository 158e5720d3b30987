package io.creditledger.service;

import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantValue;
import io.creditledger.domain.JournalBatch;
import io.creditledger.domain.JournalKind;
import io.creditledger.domain.OperationKind;
import io.creditledger.domain.UserBook;
import io.creditledger.store.EventStore;
import io.creditledger.store.LedgerStore;
import io.creditledger.wire.Json;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a write batch (or a batch of resets) decided in memory and has not written yet, for the tables every such
 * batch writes with one statement each: the journal entries, the new grants and the mirrors they ask for, the
 * operation records, and the events.
 */
class DecidedWrites {
  final JournalBatch journal = new JournalBatch();
  final List<Grant> newGrants = new ArrayList<>();
  final List<Grant> mirrors = new ArrayList<>();
  final List<LedgerStore.NewOperation> operations = new ArrayList<>();
  /** the events the decided operations raise, written with them */
  final List<EventStore.NewEvent> events = new ArrayList<>();

  /** The events to write: those the operations raised, and a grant.expired for each expiry journalled. */
  List<EventStore.NewEvent> eventsToWrite() {
    List<EventStore.NewEvent> all = new ArrayList<>(events);
    all.addAll(LedgerEvents.expired(journal));
    return all;
  }

  /** A grant decided in memory: its row, its mirror and its operation record to write. */
  record Granted(UserBook.GrantDecision decision, LedgerStore.NewOperation recorded) {
  }

  /** A grant asked for by an operation: decided, and recorded under the operation's id with its answer. */
  Granted grant(UserBook book, long grantId, GrantWriter.Spec spec, int priority, GrantValue value,
                JournalKind opening, Instant now) {
    UserBook.GrantDecision decision = open(book, grantId, spec, priority, value, opening, now);
    String userId = book.user().userId();
    return new Granted(decision, record(spec.operationId(), userId, OperationKind.GRANT, spec.canonical(userId), 201,
        Json.created(decision.answer())));
  }

  /**
   * A grant decided in memory, journalled and to be inserted (and mirrored) with the batch, without an operation
   * record: for the grants a reset opens, which the reset's own record answers for.
   */
  UserBook.GrantDecision open(UserBook book, long grantId, GrantWriter.Spec spec, int priority, GrantValue value,
                              JournalKind opening, Instant now) {
    UserBook.GrantDecision decision = book.grant(grantId, spec.operationId(), spec.type(), priority, spec.amount(),
        spec.description(), spec.expiresAt(), value, opening, now, journal);
    newGrants.add(decision.inserted());
    if (decision.after().mirrored()) {
      mirrors.add(decision.after());
    }
    return decision;
  }

  LedgerStore.NewOperation record(String operationId, String userId, OperationKind kind, String request, int status,
                                  JsonObject response) {
    LedgerStore.NewOperation op = new LedgerStore.NewOperation(operationId, userId, kind, request, status, response);
    operations.add(op);
    return op;
  }
}
