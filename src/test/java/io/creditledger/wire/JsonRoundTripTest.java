package io.creditledger.wire;

import io.creditledger.domain.ApiKey;
import io.creditledger.domain.AuditReport;
import io.creditledger.domain.Balance;
import io.creditledger.domain.Consumption;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.JournalEntry;
import io.creditledger.domain.JournalKind;
import io.creditledger.domain.MirrorDrift;
import io.creditledger.domain.OutboxAction;
import io.creditledger.domain.OutboxStatus;
import io.creditledger.domain.Page;
import io.creditledger.domain.Readiness;
import io.creditledger.domain.ReconcileRun;
import io.creditledger.domain.Referral;
import io.creditledger.domain.ResetOutcome;
import io.creditledger.domain.ResetRun;
import io.creditledger.domain.User;
import io.creditledger.domain.WebhookOutcome;
import io.creditledger.stripe.OutboxRow;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every answer the wire package writes reads back equal, through its JSON text: the writer and the reader the
 * typed client and the replays use cannot drift apart unnoticed.
 */
class JsonRoundTripTest {
  static final Instant T = Instant.parse("2026-03-01T10:15:30.123456Z");

  static <T> void roundTrip(T value, Function<T, JsonObject> write, Function<JsonObject, T> read) {
    JsonObject written = write.apply(value);
    T back = read.apply(new JsonObject(written.encode()));
    assertThat(back).isEqualTo(value);
    assertThat(write.apply(back)).as("written again, the same JSON").isEqualTo(written);
  }

  static GrantView grant(long id, GrantType type, String state) {
    return new GrantView(id, "op-" + id, "alice", type, 80, 1000, 750, 1500, new BigDecimal("1.5"), T.plusSeconds(3600),
        "Purchased credits: 1000", state, T, state.equals("active") ? null : T, null,
        new GrantView.StripeSync("synced", "credgr_" + id, false));
  }

  static Balance balance() {
    Map<GrantType, Long> breakdown = new EnumMap<>(Balance.zeroes());
    breakdown.put(GrantType.PURCHASE, 750L);
    Map<GrantType, Long> principals = new EnumMap<>(Balance.zeroes());
    principals.put(GrantType.PURCHASE, 1000L);
    return new Balance(750, 20, 730, 30, 700, breakdown, principals, 250, T);
  }

  @Test
  void users() {
    roundTrip(new User("alice", "a@example.com", "cus_1", new BigDecimal("0.25"), 31, T, 42, 3, T, T.plusSeconds(5)),
        Json::user, Json::readUser);
    roundTrip(new User("bob", "b@example.com", null, BigDecimal.ONE, 1, T, 0, null, T, T), Json::user, Json::readUser);
  }

  @Test
  void grants() {
    roundTrip(grant(7, GrantType.PURCHASE, "active"), Json::grant, Json::readGrant);
    roundTrip(new GrantView.Created(grant(8, GrantType.FREE, "active"), 20), Json::created, Json::readCreated);
    roundTrip(new GrantView.Revoked(grant(9, GrantType.ROLLOVER, "revoked"), 750), Json::revoked, Json::readRevoked);
    roundTrip(new Page<>(List.of(grant(2, GrantType.ADMIN, "expired"), grant(1, GrantType.REFERRAL, "rolled_over")), 1L),
        Json::grants, Json::readGrants);
    roundTrip(new Page<>(List.of(), null), Json::grants, Json::readGrants);
  }

  @Test
  void balancesAndConsumptions() {
    roundTrip(balance(), Json::balance, Json::readBalance);
    roundTrip(new Consumption("req-1", 250, 200, balance()), Json::consumption, Json::readConsumption);
  }

  @Test
  void journalEntries() {
    JournalEntry e = new JournalEntry(12, 7, "order-1", GrantType.PURCHASE, "req-1", JournalKind.CONSUME, -250, 750,
        "Consumed 250 credits", T);
    roundTrip(e, Json::entry, Json::readEntry);
    roundTrip(new Page<>(List.of(e), 12L), Json::entries, Json::readEntries);
  }

  @Test
  void referralsAndResets() {
    roundTrip(new Referral("ref-1", "alice", "bob", 25, new GrantView.Created(grant(3, GrantType.REFERRAL, "active"), 0),
        new GrantView.Created(grant(4, GrantType.REFERRAL, "active"), 5)), Json::referral, Json::readReferral);
    roundTrip(new ResetOutcome("alice", true, T, T.plusSeconds(86_400), 40, 930,
        List.of("rollover/alice/" + T, "free/alice/" + T.plusSeconds(86_400))), Json::resetOutcome, Json::readResetOutcome);
    roundTrip(ResetOutcome.notDue("bob", T), Json::resetOutcome, Json::readResetOutcome);
    roundTrip(new ResetRun(3, List.of(new ResetRun.Failure("carol", "reset refused"))), Json::resetRun, Json::readResetRun);
  }

  @Test
  void stripe() {
    roundTrip(new WebhookOutcome("evt_1", "charge.refunded", "revoked:300"), Json::webhook, Json::readWebhook);
    OutboxRow row = new OutboxRow(4, 6L, "order-1", "alice", OutboxAction.CREATE_CREDIT_GRANT, "ledger-create-order-1",
        new JsonObject().put("amountCents", 500), OutboxStatus.PENDING, 1, T, "503", null, null, T, null, null);
    roundTrip(row, Json::outboxRow, Json::readOutboxRow);
    roundTrip(new Page<>(List.of(row), null), Json::outboxRows, Json::readOutboxRows);
    OutboxRow usage = new OutboxRow(5, null, null, "alice", OutboxAction.REPORT_USAGE, "ledger-usage-req-1",
        new JsonObject(), OutboxStatus.DELIVERED, 1, T, null, "req-1", null, T, T, null);
    roundTrip(usage, Json::outboxRow, Json::readOutboxRow);
    ReconcileRun run = new ReconcileRun(9, null, true, 2, true, List.of(
        new ReconcileRun.DriftReport("alice", "order-1", "credgr_1", MirrorDrift.Kind.AMOUNT_MISMATCH,
            new ReconcileRun.Side("credgr_1", 1000, false, null), new ReconcileRun.Side("credgr_1", 55, false, 1800000000L)),
        new ReconcileRun.DriftReport("alice", "ghost", "credgr_2", MirrorDrift.Kind.UNKNOWN_IN_STRIPE, null,
            new ReconcileRun.Side("credgr_2", 999, false, null))), T, T.plusSeconds(2));
    roundTrip(run, Json::reconcileRun, Json::readReconcileRun);
  }

  @Test
  void vaultAuditAndReadiness() {
    roundTrip(new ApiKey.Stored("alice", "openai", T), Json::apiKey, Json::readApiKey);
    roundTrip(new ApiKey.Value("alice", "openai", "sk-123", T), Json::apiKey, Json::readApiKey);
    roundTrip(new ApiKey.Deleted("alice", "openai"), Json::apiKey, Json::readApiKey);
    roundTrip(new AuditReport(false, T, "alice", List.of(new AuditReport.Problem("usage", "user alice: usage 13"))),
        Json::audit, Json::readAudit);
    roundTrip(new AuditReport(true, T, null, List.of()), Json::audit, Json::readAudit);
    roundTrip(new Readiness(12), Json::readiness, Json::readReadiness);
  }
}
