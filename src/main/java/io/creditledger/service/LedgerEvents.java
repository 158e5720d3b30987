package io.creditledger.service;

import io.creditledger.domain.Balance;
import io.creditledger.domain.BalanceSignals;
import io.creditledger.domain.EventType;
import io.creditledger.domain.Expiry;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.JournalBatch;
import io.creditledger.domain.JournalKind;
import io.creditledger.domain.ResetOutcome;
import io.creditledger.store.EventStore.NewEvent;
import io.creditledger.stripe.OutboxRow;
import io.creditledger.wire.Json;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/** The events the ledger's operations raise, with their {@code data} as the host receives it. */
final class LedgerEvents {
  private LedgerEvents() {
  }

  /** {@code data}: the grant, as the grants API shows it, and {@code debtSettled}. */
  static NewEvent grantCreated(GrantView.Created created) {
    return NewEvent.of(EventType.GRANT_CREATED, created.grant().userId(), Json.created(created));
  }

  /** {@code data}: the grant after the revoke, and {@code revoked}, the credits it removed. */
  static NewEvent grantRevoked(GrantView.Revoked revoked) {
    return NewEvent.of(EventType.GRANT_REVOKED, revoked.grant().userId(), Json.revoked(revoked));
  }

  /** {@code data}: the account, the top-up's operationId, the credits granted and the cents charged. */
  static NewEvent topUpSucceeded(String account, String operationId, long credits, long cents,
                                 String paymentIntentId) {
    return NewEvent.of(EventType.AUTO_TOP_UP_SUCCEEDED, account, Json.owner(account).put("operationId", operationId)
        .put("credits", credits).put("cents", cents).put("paymentIntentId", paymentIntentId));
  }

  /** {@code data}: the account, the top-up's operationId, the credits it was for and why it failed. */
  static NewEvent topUpFailed(String account, String operationId, long credits, String reason) {
    return NewEvent.of(EventType.AUTO_TOP_UP_FAILED, account, Json.owner(account).put("operationId", operationId)
        .put("credits", credits).put("reason", reason));
  }

  /** {@code data}: the reset's outcome, as {@code POST /v1/admin/resets/run} reports one. */
  static NewEvent resetCompleted(ResetOutcome outcome) {
    return NewEvent.of(EventType.RESET_COMPLETED, outcome.userId(), Json.resetOutcome(outcome));
  }

  /** {@code data}: the outbox row that went dead, as {@code GET /v1/admin/outbox} lists it, and the last error. */
  static NewEvent syncDead(OutboxRow row, String error) {
    return NewEvent.of(EventType.STRIPE_SYNC_DEAD, row.userId(), Json.outboxRow(row).put("status", "dead")
        .put("attempts", row.attempts() + 1).put("lastError", error));
  }

  /** One {@code grant.expired} per expiry the journal batch holds: {@code data} is the grant and the credits lost. */
  static List<NewEvent> expired(JournalBatch batch) {
    List<NewEvent> events = new ArrayList<>(0);
    for (JournalBatch.Entry e : batch.entries()) {
      if (e.kind() == JournalKind.EXPIRY) {
        events.add(NewEvent.of(EventType.GRANT_EXPIRED, e.userId(), Json.owner(e.userId())
            .put("grantId", e.grantId()).put("operationId", e.operationId().substring(Expiry.OPERATION_PREFIX.length()))
            .put("expired", -e.delta())));
      }
    }
    return events;
  }

  /**
   * What a consumption or capture ({@code operationId}) that moved the balance from {@code before} to
   * {@code after} raises: {@code data} is {@code userId}, {@code operationId}, the balance after, and
   * {@code threshold} (balance.low) or {@code debtIncurred} (balance.debt).
   */
  static List<NewEvent> balanceChanged(String userId, String operationId, Balance before, Balance after,
                                       long lowThreshold) {
    List<NewEvent> events = new ArrayList<>(0);
    for (EventType type : BalanceSignals.of(before, after, lowThreshold)) {
      JsonObject data = Json.owner(userId).put("operationId", operationId)
          .put("balance", Json.balance(after));
      if (type == EventType.BALANCE_LOW) {
        data.put("threshold", lowThreshold);
      } else {
        data.put("debtIncurred", after.totalDebt() - before.totalDebt());
      }
      events.add(NewEvent.of(type, userId, data));
    }
    return events;
  }
}
