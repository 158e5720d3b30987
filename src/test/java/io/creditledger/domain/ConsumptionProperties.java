package io.creditledger.domain;

import org.junit.jupiter.api.Test;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Random sequences of grants, consumptions and clock moves, applied both to the real pure logic
 * ({@link ConsumptionPlan}, {@link DebtSettlement}) and to a deliberately naive reference model written from the
 * rules; balances and refusals must agree after every step.
 */
class ConsumptionProperties {
  private static final long MAX_DEBT = 100;
  private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  sealed interface Step permits GrantStep, ConsumeStep, TickStep {
  }

  record GrantStep(GrantType type, long amount, Integer expiresInMinutes) implements Step {
  }

  record ConsumeStep(long amount) implements Step {
  }

  record TickStep(int minutes) implements Step {
  }

  static Gen<List<Step>> steps() {
    Gen<Step> grant = Generate.enumValues(GrantType.class).zip(
        longs().between(1, 300),
        integers().between(1, 120).toOptionals(50),
        (type, amount, expiresIn) -> new GrantStep(type, amount, expiresIn.orElse(null)));
    Gen<Step> consume = longs().between(1, 400).map(ConsumeStep::new);
    Gen<Step> tick = integers().between(1, 60).map(TickStep::new);
    return lists().of(Generate.frequency(Pair.of(3, grant), Pair.of(5, consume), Pair.of(1, tick)))
        .ofSizeBetween(0, 40);
  }

  /** The reference model: one mutable row per grant, rules applied by hand. */
  static final class ModelGrant {
    final long id;
    final int priority;
    final boolean purchase;
    final Instant expiresAt;
    final Instant createdAt;
    long balance;

    ModelGrant(long id, int priority, boolean purchase, Instant expiresAt, Instant createdAt, long balance) {
      this.id = id;
      this.priority = priority;
      this.purchase = purchase;
      this.expiresAt = expiresAt;
      this.createdAt = createdAt;
      this.balance = balance;
    }

    boolean active(Instant now) {
      return expiresAt == null || expiresAt.isAfter(now);
    }

    /** True when this grant is spent before {@code o}. */
    boolean before(ModelGrant o) {
      if (priority != o.priority) {
        return priority < o.priority;
      }
      if (expiresAt == null || o.expiresAt == null) {
        if (expiresAt != o.expiresAt) {
          return o.expiresAt == null;
        }
      } else if (!expiresAt.equals(o.expiresAt)) {
        return expiresAt.isBefore(o.expiresAt);
      }
      if (!createdAt.equals(o.createdAt)) {
        return createdAt.isBefore(o.createdAt);
      }
      return id < o.id;
    }
  }

  /** Model consume: null when refused, else credits taken from purchase grants. */
  static Long modelConsume(List<ModelGrant> grants, long amount, Instant now) {
    for (ModelGrant g : grants) {
      if (g.balance < 0) {
        return null;
      }
    }
    List<ModelGrant> pending = new ArrayList<>();
    for (ModelGrant g : grants) {
      if (g.active(now)) {
        pending.add(g);
      }
    }
    if (pending.isEmpty()) {
      return null;
    }
    ModelGrant last = pending.get(0);
    for (ModelGrant g : pending) {
      if (last.before(g)) {
        last = g;
      }
    }
    long available = 0;
    for (ModelGrant g : pending) {
      available += g.balance;
    }
    if (amount - available > MAX_DEBT) {
      return null;
    }
    long left = amount;
    long fromPurchased = 0;
    while (left > 0) {
      ModelGrant best = null;
      for (ModelGrant g : pending) {
        if (g.balance > 0 && (best == null || g.before(best))) {
          best = g;
        }
      }
      if (best == null) {
        break;
      }
      long take = Math.min(best.balance, left);
      best.balance -= take;
      left -= take;
      fromPurchased += best.purchase ? take : 0;
    }
    last.balance -= left;
    fromPurchased += last.purchase ? left : 0;
    return fromPurchased;
  }

  static void modelGrant(List<ModelGrant> grants, ModelGrant fresh) {
    grants.add(fresh);
    while (fresh.balance > 0) {
      ModelGrant oldestDebtor = null;
      for (ModelGrant g : grants) {
        if (g.balance < 0 && (oldestDebtor == null || g.createdAt.isBefore(oldestDebtor.createdAt)
            || (g.createdAt.equals(oldestDebtor.createdAt) && g.id < oldestDebtor.id))) {
          oldestDebtor = g;
        }
      }
      if (oldestDebtor == null) {
        break;
      }
      long pay = Math.min(fresh.balance, -oldestDebtor.balance);
      fresh.balance -= pay;
      oldestDebtor.balance += pay;
    }
  }

  @Test
  void realLogicAgreesWithTheReferenceModel() {
    qt().withExamples(400).forAll(steps()).checkAssert(ConsumptionProperties::agreeStepByStep);
  }

  private static void agreeStepByStep(List<Step> steps) {
    List<Grant> real = new ArrayList<>();
    List<ModelGrant> model = new ArrayList<>();
    Instant now = START;
    long nextId = 1;
    for (Step step : steps) {
      if (step instanceof TickStep t) {
        now = now.plusSeconds(60L * t.minutes());
      } else if (step instanceof GrantStep g) {
        long id = nextId++;
        Instant expires = g.expiresInMinutes() == null ? null : now.plusSeconds(60L * g.expiresInMinutes());
        int priority = Grants.PRIORITY.get(g.type());
        Grant grant = new Grant(id, "u", "op-" + id, g.type(), priority, g.amount(), g.amount(), g.amount(),
            BigDecimal.ONE, expires, "", now, null, null, null, null, null, null, null);
        long left = g.amount();
        List<Grant> next = new ArrayList<>();
        List<DebtSettlement.Payment> payments = DebtSettlement.settle(g.amount(), real);
        for (Grant r : real) {
          long paid = payments.stream().filter(p -> p.debtor().grantId() == r.grantId())
              .mapToLong(DebtSettlement.Payment::amount).sum();
          next.add(r.withBalance(r.balance() + paid));
          left -= paid;
        }
        next.add(grant.withBalance(left));
        real = next;
        modelGrant(model, new ModelGrant(id, priority, g.type() == GrantType.PURCHASE, expires, now, g.amount()));
      } else if (step instanceof ConsumeStep c) {
        ConsumptionPlan.Outcome outcome = ConsumptionPlan.plan(real, c.amount(), MAX_DEBT, now);
        Long modelFromPurchased = modelConsume(model, c.amount(), now);
        if (outcome instanceof ConsumptionPlan.Planned plan) {
          assertThat(modelFromPurchased).as("model refused what the real logic planned").isNotNull();
          assertThat(plan.fromPurchased()).isEqualTo(modelFromPurchased);
          assertThat(plan.takes().stream().mapToLong(ConsumptionPlan.Take::amount).sum()).isEqualTo(c.amount());
          List<Grant> next = new ArrayList<>();
          for (Grant r : real) {
            long taken = plan.takes().stream().filter(t -> t.grant().grantId() == r.grantId())
                .mapToLong(ConsumptionPlan.Take::amount).sum();
            next.add(r.withBalance(r.balance() - taken));
          }
          real = next;
        } else {
          assertThat(modelFromPurchased).as("model planned what the real logic refused").isNull();
        }
      }
      for (int i = 0; i < real.size(); i++) {
        assertThat(real.get(i).balance()).as("balance of grant " + real.get(i).grantId())
            .isEqualTo(model.get(i).balance);
      }
      long debt = ConsumptionPlan.debtOf(real);
      assertThat(debt).isLessThanOrEqualTo(MAX_DEBT);
    }
  }
}
