package io.creditledger.domain;

import io.creditledger.error.ErrorCode;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static io.creditledger.domain.Grants.NOW;
import static io.creditledger.domain.Grants.closed;
import static io.creditledger.domain.Grants.grant;
import static io.creditledger.domain.GrantType.ADMIN;
import static io.creditledger.domain.GrantType.FREE;
import static io.creditledger.domain.GrantType.PURCHASE;
import static io.creditledger.domain.GrantType.REFERRAL;
import static io.creditledger.domain.GrantType.ROLLOVER;
import static org.assertj.core.api.Assertions.assertThat;

class ConsumptionPlanTest {

  private static ConsumptionPlan.Planned planned(List<Grant> grants, long amount) {
    ConsumptionPlan.Outcome o = ConsumptionPlan.plan(grants, amount, 100, NOW);
    assertThat(o).isInstanceOf(ConsumptionPlan.Planned.class);
    return (ConsumptionPlan.Planned) o;
  }

  private static ConsumptionPlan.Refused refused(List<Grant> grants, long amount) {
    ConsumptionPlan.Outcome o = ConsumptionPlan.plan(grants, amount, 100, NOW);
    assertThat(o).isInstanceOf(ConsumptionPlan.Refused.class);
    return (ConsumptionPlan.Refused) o;
  }

  private static List<String> takes(ConsumptionPlan.Planned p) {
    return p.takes().stream().map(t -> t.grant().operationId() + "=" + t.amount()).toList();
  }

  @Test
  void spendsByPriorityRegardlessOfInsertionOrder() {
    List<Grant> grants = List.of(grant(1, ADMIN, 10), grant(2, PURCHASE, 10), grant(3, ROLLOVER, 10),
        grant(4, REFERRAL, 10), grant(5, FREE, 10));
    assertThat(takes(planned(grants, 45))).containsExactly("op-5=10", "op-4=10", "op-3=10", "op-2=10", "op-1=5");
  }

  @Test
  void withinAPrioritySoonestExpiryFirstNeverExpiringLastThenOldest() {
    Instant created = NOW.minusSeconds(100);
    Grant later = grant(1, PURCHASE, 10, 10, NOW.plusSeconds(7200), created);
    Grant sooner = grant(2, PURCHASE, 10, 10, NOW.plusSeconds(3600), created);
    Grant neverNewer = grant(3, PURCHASE, 10, 10, null, NOW.minusSeconds(10));
    Grant neverOlder = grant(4, PURCHASE, 10, 10, null, NOW.minusSeconds(50));
    assertThat(takes(planned(List.of(neverNewer, later, neverOlder, sooner), 40)))
        .containsExactly("op-2=10", "op-1=10", "op-4=10", "op-3=10");
  }

  @Test
  void skipsEmptyExpiredAndClosedGrants() {
    Grant empty = grant(1, FREE, 0);
    Grant expired = grant(2, FREE, 50, 50, NOW, NOW.minusSeconds(500));
    Grant revoked = closed(grant(3, REFERRAL, 50));
    Grant purchase = grant(4, PURCHASE, 30);
    ConsumptionPlan.Planned p = planned(List.of(empty, expired, revoked, purchase), 20);
    assertThat(takes(p)).containsExactly("op-4=20");
    assertThat(p.fromPurchased()).isEqualTo(20);
  }

  @Test
  void shortfallGoesNegativeOnTheLastGrantInOrderWithinMaxDebt() {
    ConsumptionPlan.Planned p = planned(List.of(grant(1, FREE, 30), grant(2, PURCHASE, 20)), 150);
    assertThat(takes(p)).containsExactly("op-1=30", "op-2=120");
    assertThat(p.takes().get(1).balanceAfter()).isEqualTo(-100);
    assertThat(p.fromPurchased()).isEqualTo(120);
  }

  @Test
  void shortfallLandsOnALastGrantThatWasAlreadyEmpty() {
    ConsumptionPlan.Planned p = planned(List.of(grant(1, FREE, 30), grant(2, ADMIN, 0)), 50);
    assertThat(takes(p)).containsExactly("op-1=30", "op-2=20");
    assertThat(p.fromPurchased()).isZero();
  }

  @Test
  void beyondMaxDebtTheWholeRequestIsRefused() {
    ConsumptionPlan.Refused r = refused(List.of(grant(1, FREE, 30)), 131);
    assertThat(r.code()).isEqualTo(ErrorCode.INSUFFICIENT_CREDITS);
    assertThat(r.message()).contains("30", "131", "100");
  }

  @Test
  void noActiveGrantMeansNothingCanCarryDebt() {
    assertThat(refused(List.of(), 1).code()).isEqualTo(ErrorCode.INSUFFICIENT_CREDITS);
    assertThat(refused(List.of(grant(1, FREE, 10, 10, NOW.minusSeconds(1), NOW.minusSeconds(100))), 1).code())
        .isEqualTo(ErrorCode.INSUFFICIENT_CREDITS);
  }

  @Test
  void anyDebtBlocksEvenOnAnExpiredGrant() {
    Grant expiredInDebt = grant(1, FREE, 100, -5, NOW.minusSeconds(1), NOW.minusSeconds(500));
    ConsumptionPlan.Refused r = refused(List.of(expiredInDebt, grant(2, PURCHASE, 1000)), 1);
    assertThat(r.code()).isEqualTo(ErrorCode.DEBT_OUTSTANDING);
    assertThat(r.message()).contains("5 credits");
  }

  @Test
  void exactCoverLeavesNoDebt() {
    ConsumptionPlan.Planned p = planned(List.of(grant(1, FREE, 30), grant(2, PURCHASE, 20)), 50);
    assertThat(p.takes()).allMatch(t -> t.balanceAfter() == 0);
  }

  @Test
  void maxDebtZeroRefusesAnyShortfall() {
    ConsumptionPlan.Outcome o = ConsumptionPlan.plan(List.of(grant(1, FREE, 30)), 31, 0, NOW);
    assertThat(o).isInstanceOf(ConsumptionPlan.Refused.class);
  }

  @Test
  void heldCreditsAreNotAConsumptionsToTakeButItsShortfallMayStillBeDebt() {
    List<Grant> grants = List.of(grant(1, FREE, 30), grant(2, PURCHASE, 70));
    // 100 credits, 80 held: 20 available, and MAX_DEBT 10 lets 30 through
    ConsumptionPlan.Outcome ok = ConsumptionPlan.plan(grants, 30, 80, 10, NOW);
    assertThat(ok).isInstanceOf(ConsumptionPlan.Planned.class);
    assertThat(takes((ConsumptionPlan.Planned) ok)).as("taken in the usual order: a hold names no grant")
        .containsExactly("op-1=30");
    ConsumptionPlan.Outcome refused = ConsumptionPlan.plan(grants, 31, 80, 10, NOW);
    assertThat(refused).isInstanceOf(ConsumptionPlan.Refused.class);
    assertThat(((ConsumptionPlan.Refused) refused).message()).contains("20 credits available", "80 more are held");
  }

  @Test
  void aForcedConsumptionPutsItsShortfallOnTheLastActiveGrantWhateverTheDebt() {
    List<Grant> grants = List.of(grant(1, FREE, 30), grant(2, PURCHASE, 20));
    ConsumptionPlan.Planned p = ConsumptionPlan.force(grants, 500, NOW);
    assertThat(takes(p)).containsExactly("op-1=30", "op-2=470");
    assertThat(p.fromPurchased()).isEqualTo(470);
  }

  @Test
  void aForcedConsumptionWithNothingActiveFallsOnTheNewestGrant() {
    Grant newest = closed(grant(9, PURCHASE, 0));
    ConsumptionPlan.Planned p = ConsumptionPlan.force(List.of(newest), 40, NOW);
    assertThat(takes(p)).containsExactly("op-9=40");
    assertThat(p.takes().get(0).balanceAfter()).isEqualTo(-40);
  }
}
