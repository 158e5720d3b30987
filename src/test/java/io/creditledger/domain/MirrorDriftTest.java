package io.creditledger.domain;

import io.creditledger.domain.MirrorDrift.Kind;
import io.creditledger.domain.MirrorDrift.Local;
import io.creditledger.domain.MirrorDrift.Remote;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class MirrorDriftTest {
  static final Instant NOW = Instant.parse("2026-08-01T00:00:00Z");

  static Grant grant(String op, String stripeId, Instant voidedAt, Instant expiresAt) {
    return new Grant(1, "u", op, GrantType.PURCHASE, 80, 1000, 1000, 1500, new BigDecimal("1.5"), expiresAt, "", NOW,
        null, null, null, "cus_u", stripeId, voidedAt, null);
  }

  static Local local(Grant g, long revoked) {
    return new Local(g, revoked, false, false, Set.of());
  }

  static List<Kind> kinds(List<MirrorDrift.Drift> drift) {
    return drift.stream().map(MirrorDrift.Drift::kind).toList();
  }

  @Test
  void aMirrorInStepHasNoDrift() {
    Local l = local(grant("a", "credgr_a", null, null), 0);
    assertThat(MirrorDrift.compare("u", List.of(l), List.of(new Remote("credgr_a", "a", 1500, false, null)))).isEmpty();
  }

  @Test
  void theExpectedAmountIsWhatIsLeftAfterRevokes() {
    Local l = local(grant("a", "credgr_a", null, null), 400);
    assertThat(MirrorDrift.compare("u", List.of(l), List.of(new Remote("credgr_a", "a", 900, false, null)))).isEmpty();
    assertThat(kinds(MirrorDrift.compare("u", List.of(l), List.of(new Remote("credgr_a", "a", 1500, false, null)))))
        .containsExactly(Kind.AMOUNT_MISMATCH);
  }

  @Test
  void aCreateOrVoidOnItsWayIsNotJudgedYet() {
    Local creating = new Local(grant("a", null, null, null), 0, true, false, Set.of());
    assertThat(MirrorDrift.compare("u", List.of(creating), List.of())).isEmpty();
    Local voiding = new Local(grant("b", "credgr_b", null, null), 0, false, true, Set.of());
    assertThat(MirrorDrift.compare("u", List.of(voiding), List.of(new Remote("credgr_b", "b", 1500, true, null))))
        .isEmpty();
  }

  @Test
  void missingVoidedAndExpiryDrift() {
    Local missing = local(grant("m", "credgr_m", null, null), 0);
    Local voidedHere = local(grant("v", "credgr_v", NOW, null), 0);
    Local dated = local(grant("e", "credgr_e", null, NOW.plusSeconds(60)), 0);
    List<MirrorDrift.Drift> drift = MirrorDrift.compare("u", List.of(missing, voidedHere, dated), List.of(
        new Remote("credgr_v", "v", 1500, false, null), new Remote("credgr_e", "e", 1500, false, null)));
    assertThat(kinds(drift)).containsExactly(Kind.MISSING_IN_STRIPE, Kind.VOIDED_MISMATCH, Kind.EXPIRY_MISMATCH);
    assertThat(MirrorDrift.compare("u", List.of(local(grant("gone", "credgr_x", NOW, null), 0)), List.of()))
        .as("a voided mirror Stripe no longer lists does no harm").isEmpty();
  }

  @Test
  void stripeGrantsTheLedgerDoesNotWantMustBeVoided() {
    Local replaced = new Local(grant("r", "credgr_new", null, null), 0, false, false, Set.of("credgr_old"));
    List<MirrorDrift.Drift> drift = MirrorDrift.compare("u", List.of(replaced), List.of(
        new Remote("credgr_new", "r", 1500, false, null),
        new Remote("credgr_old", "r", 1500, false, null),
        new Remote("credgr_ghost", "ghost", 700, false, null),
        new Remote("credgr_dead_ghost", "ghost2", 700, true, null),
        new Remote("credgr_dashboard", null, 500, false, null)));
    assertThat(kinds(drift)).containsExactly(Kind.VOIDED_MISMATCH, Kind.UNKNOWN_IN_STRIPE);
    assertThat(drift.get(0).stripeGrantId()).isEqualTo("credgr_old");
    assertThat(drift.get(1).operationId()).isEqualTo("ghost");
    assertThat(drift.get(1).userId()).isEqualTo("u");
  }
}
