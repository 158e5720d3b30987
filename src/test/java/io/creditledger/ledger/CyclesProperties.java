package io.creditledger.ledger;

import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantType;
import io.creditledger.service.Refunds;
import io.creditledger.api.LedgerClient;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Reply;
import io.creditledger.support.Api;
import io.creditledger.support.StripeFixtures;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Random sequences spanning several cycles — grants of every type, purchases through Stripe's webhook, consumptions,
 * partial and full refunds, admin revokes, referrals either way, and clock moves across reset boundaries — run
 * against the real ledger (event bus and webhook, real PostgreSQL) and against a reference model written from the
 * rules. The model tracks every credit as a unit that remembers the grants it passed through, so "where did a
 * purchase's credits go" is answered by counting units, not by the ledger's arithmetic. After every step each
 * grant's balance and state, the usage of the cycle and every answer must agree.
 */
class CyclesProperties {
  static final long MAX_DEBT = 100;
  static final long FREE = 50;
  static final long REFERRAL_PER_CYCLE = 10;
  static final int REFERRAL_LIMIT = 3;
  static final Duration CYCLE = Duration.ofHours(1);
  static final String SECRET = "whsec_test_properties_0123";
  static final Instant EPOCH = Instant.parse("2027-01-01T00:00:00Z");
  static final Map<GrantType, Integer> PRIORITY = Map.of(GrantType.FREE, 20, GrantType.REFERRAL, 40,
      GrantType.ROLLOVER, 60, GrantType.PURCHASE, 80, GrantType.ADMIN, 100);

  static TestApp app;
  static LedgerClient client;
  static final AtomicInteger examples = new AtomicInteger();

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", Long.toString(FREE),
      "REFERRAL_RESET_CREDITS", Long.toString(REFERRAL_PER_CYCLE), "REFERRAL_LIMIT", Integer.toString(REFERRAL_LIMIT),
      "MAX_DEBT", Long.toString(MAX_DEBT), "RESET_CYCLE", "PT1H", "RESET_SCAN_INTERVAL", "PT24H",
      "STRIPE_WEBHOOK_SECRET", SECRET), started -> app = started);

  @BeforeAll
  static void connect() {
    client = new LedgerClient(app.vertx);
  }

  // ---- steps

  sealed interface Step permits Grant, Buy, Consume, Tick, Refund, Revoke, Refer {
  }

  record Grant(GrantType type, long amount, Integer expiresInMinutes) implements Step {
  }

  record Buy(long amount) implements Step {
  }

  record Consume(long amount) implements Step {
  }

  record Tick(int minutes) implements Step {
  }

  /** Refunds {@code quarters}/4 of the {@code pick}-th purchase bought so far (cumulatively, like Stripe). */
  record Refund(int pick, int quarters) implements Step {
  }

  /** Revokes the {@code pick}-th grant made so far, whatever became of it. */
  record Revoke(int pick) implements Step {
  }

  record Refer(boolean asReferrer, long credits) implements Step {
  }

  static Gen<List<Step>> steps() {
    Gen<Step> grant = Generate.pick(List.of(GrantType.FREE, GrantType.REFERRAL, GrantType.PURCHASE, GrantType.ADMIN))
        .zip(longs().between(1, 300), integers().between(5, 300).toOptionals(60),
            (type, amount, expires) -> new Grant(type, amount, expires.orElse(null)));
    Gen<Step> buy = longs().between(1, 400).map(Buy::new);
    Gen<Step> consume = longs().between(1, 350).map(Consume::new);
    Gen<Step> tick = integers().between(1, 150).map(Tick::new);
    Gen<Step> refund = integers().between(0, 20).zip(integers().between(1, 4), Refund::new);
    Gen<Step> revoke = integers().between(0, 20).map(Revoke::new);
    Gen<Step> refer = booleans().all().zip(longs().between(1, 50), Refer::new);
    return lists().of(Generate.frequency(List.of(Pair.of(3, grant), Pair.of(3, buy), Pair.of(6, consume),
            Pair.of(3, tick), Pair.of(2, refund), Pair.of(1, revoke), Pair.of(1, refer))))
        .ofSizeBetween(1, 30);
  }

  @Test
  void theLedgerAgreesWithTheReferenceModelAcrossCycles() {
    qt().withExamples(Integer.getInteger("properties.examples", 40)).withShrinkCycles(30).forAll(steps()).checkAssert(CyclesProperties::run);
  }

  // ---- the reference model

  /** One credit; {@code path} holds the ids of the grants it passed through, its origin first. */
  record Unit(List<Long> path) {
    Unit via(long grantId) {
      List<Long> p = new ArrayList<>(path);
      p.add(grantId);
      return new Unit(p);
    }
  }

  static final class MGrant {
    final long id;
    final String operationId;
    final GrantType type;
    final Instant expiresAt;
    final Instant createdAt;
    final long principal;
    long balance;
    String closedBy;
    final Deque<Unit> units = new ArrayDeque<>();

    MGrant(long id, String operationId, GrantType type, Instant expiresAt, Instant createdAt, long amount) {
      this.id = id;
      this.operationId = operationId;
      this.type = type;
      this.expiresAt = expiresAt;
      this.createdAt = createdAt;
      this.principal = amount;
      this.balance = amount;
      for (long i = 0; i < amount; i++) {
        units.add(new Unit(List.of(id)));
      }
    }

    boolean expired(Instant now) {
      return expiresAt != null && !expiresAt.isAfter(now);
    }

    boolean active(Instant now) {
      return closedBy == null && !expired(now);
    }

    /** Takes credits away: the units go first to last, and once none is left the balance goes negative. */
    void take(long amount) {
      balance -= amount;
      for (long i = 0; i < amount && !units.isEmpty(); i++) {
        units.removeFirst();
      }
    }

    String state(Instant now) {
      if ("revoke".equals(closedBy)) {
        return "revoked";
      }
      if ("rollover".equals(closedBy)) {
        return "rolled_over";
      }
      return expired(now) ? "expired" : "active";
    }
  }

  static final class Model {
    final String userId;
    final List<MGrant> grants = new ArrayList<>();
    long nextId = 1;
    Instant nextReset;
    long usage;
    int given;
    boolean referred;
    final Map<String, Long> revoked = new HashMap<>();
    final Map<String, Long> refundedQuarters = new HashMap<>();

    Model(String userId, Instant created) {
      this.userId = userId;
      this.nextReset = created.plus(CYCLE);
      write("free/" + userId + "/" + nextReset, GrantType.FREE, FREE, nextReset, created);
    }

    MGrant write(String operationId, GrantType type, long amount, Instant expiresAt, Instant now) {
      return add(new MGrant(nextId++, operationId, type, expiresAt, now, amount));
    }

    /** A new grant pays the debts, oldest first, before it joins the others. */
    private MGrant add(MGrant g) {
      List<MGrant> debtors = grants.stream().filter(d -> d.balance < 0)
          .sorted(Comparator.comparing((MGrant d) -> d.createdAt).thenComparingLong(d -> d.id)).toList();
      for (MGrant d : debtors) {
        long pay = Math.min(g.balance, -d.balance);
        if (pay == 0) {
          break;
        }
        g.take(pay);
        d.balance += pay;
      }
      grants.add(g);
      return g;
    }

    void sweepExpired(Instant now) {
      for (MGrant g : grants) {
        if (g.closedBy == null && g.expired(now) && g.balance > 0) {
          g.take(g.balance);
        }
      }
    }

    void resetIfDue(Instant now) {
      if (nextReset.isAfter(now)) {
        return;
      }
      Instant boundary = nextReset;
      long missed = Duration.between(boundary, now).toNanos() / CYCLE.toNanos();
      Instant next = boundary.plus(CYCLE.multipliedBy(missed + 1));
      sweepExpired(now);
      List<MGrant> sources = grants.stream()
          .filter(g -> (g.type == GrantType.ROLLOVER || (g.type == GrantType.PURCHASE && g.expiresAt == null))
              && g.active(now) && g.balance > 0)
          .sorted(Comparator.comparing((MGrant g) -> g.createdAt).thenComparingLong(g -> g.id)).toList();
      long total = sources.stream().mapToLong(g -> g.balance).sum();
      List<Unit> moved = new ArrayList<>();
      for (MGrant s : sources) {
        moved.addAll(s.units);
        s.units.clear();
        s.balance = 0;
        s.closedBy = "rollover";
      }
      if (total > 0) {
        MGrant r = new MGrant(nextId++, "rollover/" + userId + "/" + boundary, GrantType.ROLLOVER, null, now, total);
        r.units.clear();
        moved.forEach(u -> r.units.add(u.via(r.id)));
        add(r);
      }
      write("free/" + userId + "/" + next, GrantType.FREE, FREE, next, now);
      long referrals = given + (referred ? 1 : 0);
      if (referrals > 0) {
        write("referral/" + userId + "/" + next, GrantType.REFERRAL, referrals * REFERRAL_PER_CYCLE, next, now);
      }
      usage = 0;
      nextReset = next;
    }

    /** The refusal's code, or the credits taken from purchase grants. */
    Object consume(long amount, Instant now) {
      if (grants.stream().anyMatch(g -> g.balance < 0)) {
        return "debt_outstanding";
      }
      List<MGrant> active = grants.stream().filter(g -> g.active(now))
          .sorted(Comparator.comparingInt((MGrant g) -> PRIORITY.get(g.type))
              .thenComparing(g -> g.expiresAt, Comparator.nullsLast(Comparator.naturalOrder()))
              .thenComparing(g -> g.createdAt).thenComparingLong(g -> g.id))
          .toList();
      long available = active.stream().mapToLong(g -> Math.max(g.balance, 0)).sum();
      if (active.isEmpty() || amount - available > MAX_DEBT) {
        return "insufficient_credits";
      }
      sweepExpired(now);
      long left = amount;
      long fromPurchased = 0;
      for (MGrant g : active) {
        if (left > 0 && g.balance > 0) {
          long take = Math.min(g.balance, left);
          g.take(take);
          left -= take;
          fromPurchased += g.type == GrantType.PURCHASE ? take : 0;
        }
      }
      MGrant last = active.get(active.size() - 1);
      last.take(left);
      fromPurchased += last.type == GrantType.PURCHASE ? left : 0;
      usage += amount;
      return fromPurchased;
    }

    /** Removes up to {@code max} of the grant's credits from wherever they are; answers how many. */
    long takeBack(MGrant origin, long max) {
      long taken = 0;
      for (MGrant holder : grants) {
        Iterator<Unit> it = holder.units.iterator();
        while (it.hasNext() && taken < max) {
          if (it.next().path().contains(origin.id)) {
            it.remove();
            holder.balance--;
            taken++;
          }
        }
      }
      return taken;
    }

    long stillHeld(MGrant origin) {
      return grants.stream().mapToLong(h -> h.units.stream().filter(u -> u.path().contains(origin.id)).count()).sum();
    }

    String refund(MGrant purchase, int quarters) {
      if ("revoke".equals(purchase.closedBy)) {
        return "ignored_grant_closed";
      }
      boolean full = quarters >= 4;
      long target = full ? purchase.principal : BigDecimal.valueOf(purchase.principal * quarters)
          .divide(BigDecimal.valueOf(4), 0, RoundingMode.HALF_UP).longValueExact();
      long soFar = revoked.getOrDefault(purchase.operationId, 0L);
      long taken = takeBack(purchase, Math.max(0, target - soFar));
      revoked.merge(purchase.operationId, taken, Long::sum);
      if (full) {
        purchase.closedBy = "revoke";
      }
      return (full ? "revoked_all:" : "revoked:") + taken;
    }

    long revoke(MGrant g) {
      if ("revoke".equals(g.closedBy)) {
        return 0;
      }
      long taken = takeBack(g, Long.MAX_VALUE);
      g.closedBy = "revoke";
      return taken;
    }

    MGrant byOperation(String operationId) {
      return grants.stream().filter(g -> g.operationId.equals(operationId)).findFirst().orElse(null);
    }
  }

  // ---- one example

  static void run(List<Step> steps) {
    int example = examples.incrementAndGet();
    Instant now = EPOCH.plus(Duration.ofDays(30L * example));
    app.clock.set(now);
    String user = "prop-" + example;
    TestApp.await(client.putUser(user, user + "@example.com", null, null));
    Model model = new Model(user, now);
    List<MGrant> purchases = new ArrayList<>();
    List<MGrant> made = new ArrayList<>();
    made.add(model.grants.get(0));
    int n = 0;
    for (Step step : steps) {
      n++;
      String op = user + "-" + n;
      String where = "step " + n + " " + step + " of " + steps;
      if (step instanceof Tick t) {
        now = now.plus(Duration.ofMinutes(t.minutes()));
        app.clock.set(now);
      } else if (step instanceof Grant g) {
        Instant expires = g.expiresInMinutes() == null ? null : now.plus(Duration.ofMinutes(g.expiresInMinutes()));
        TestApp.await(client.grant(user, op, g.type(), g.amount(), null, expires));
        Instant effective = expires != null ? expires : g.type().expiresAtReset() ? model.nextReset : null;
        made.add(model.write(op, g.type(), g.amount(), effective, now));
      } else if (step instanceof Buy b) {
        assertThat(webhook("checkout.session.completed", StripeFixtures.fixture("checkout.session")
            .put("payment_status", "paid").put("status", "complete").put("payment_intent", "pi_" + op.replace("-", "_"))
            .put("metadata", new JsonObject().put("userId", user).put("credits", Long.toString(b.amount()))
                .put("operationId", op)), now)).as(where).isEqualTo("granted");
        MGrant bought = model.write(op, GrantType.PURCHASE, b.amount(), null, now);
        purchases.add(bought);
        made.add(bought);
      } else if (step instanceof Consume c) {
        Object expected = model.consume(c.amount(), now);
        Object actual;
        try {
          actual = TestApp.await(client.consume(user, op, c.amount())).fromPurchased();
        } catch (LedgerException e) {
          assertThat(e.status()).as(where).isEqualTo(402);
          actual = e.code();
        }
        assertThat(actual).as(where).isEqualTo(expected);
      } else if (step instanceof Refund r) {
        if (purchases.isEmpty()) {
          continue;
        }
        MGrant purchase = purchases.get(r.pick() % purchases.size());
        int quarters = Math.max(r.quarters(), model.refundedQuarters.getOrDefault(purchase.operationId, 0L).intValue());
        model.refundedQuarters.put(purchase.operationId, (long) quarters);
        String expected = model.refund(purchase, quarters);
        String pi = "pi_" + purchase.operationId.replace("-", "_");
        String actual = webhook("charge.refunded", StripeFixtures.fixture("charge").put("id", "ch_" + pi)
            .put("payment_intent", pi).put("amount", 1000).put("amount_refunded", quarters * 250)
            .put("refunded", quarters == 4), now);
        assertThat(actual).as(where).isEqualTo(expected);
      } else if (step instanceof Revoke v) {
        MGrant target = made.get(v.pick() % made.size());
        long expected = model.revoke(target);
        long actual = TestApp.await(client.request(io.creditledger.api.Addresses.GRANT_REVOKE,
            new JsonObject().put("operationId", target.operationId).put("reason", "property"))).body().getLong("revoked");
        assertThat(actual).as(where).isEqualTo(expected);
      } else if (step instanceof Refer f) {
        String other = op + "-friend";
        TestApp.await(client.putUser(other, other + "@example.com", null, null));
        refer(model, f, op, user, other, now, made, where);
      }
      model.resetIfDue(now); // the reads below apply a due reset, as every operation does
      compare(model, user, now, where);
    }
  }

  static void refer(Model model, Refer f, String op, String user, String other, Instant now, List<MGrant> made,
                    String where) {
    String expected;
    if (f.asReferrer()) {
      expected = model.given >= REFERRAL_LIMIT ? "referral_limit_reached" : null;
    } else {
      expected = model.referred ? "already_referred" : null;
    }
    String referrer = f.asReferrer() ? user : other;
    String referred = f.asReferrer() ? other : user;
    try {
      TestApp.await(client.refer(op, referrer, referred, f.credits()));
      assertThat(expected).as(where).isNull();
      String grantOp = op + (f.asReferrer() ? "-referrer" : "-referred");
      made.add(model.write(grantOp, GrantType.REFERRAL, f.credits(), model.nextReset, now));
      if (f.asReferrer()) {
        model.given++;
      } else {
        model.referred = true;
      }
    } catch (LedgerException e) {
      assertThat(e.code()).as(where).isEqualTo(expected);
    }
  }

  static void compare(Model model, String user, Instant now, String where) {
    compare(client, model, user, now, where);
  }

  /** Every grant's balance and state, and the cycle's usage, as the ledger behind {@code client} has them. */
  static void compare(LedgerClient client, Model model, String user, Instant now, String where) {
    Map<String, JsonObject> real = new HashMap<>();
    Reply page = TestApp.await(client.request(io.creditledger.api.Addresses.GRANT_LIST,
        new JsonObject().put("userId", user).put("limit", 500)));
    JsonArray grants = page.body().getJsonArray("grants");
    for (int i = 0; i < grants.size(); i++) {
      real.put(grants.getJsonObject(i).getString("operationId"), grants.getJsonObject(i));
    }
    assertThat(real.keySet()).as(where).containsExactlyInAnyOrderElementsOf(
        model.grants.stream().map(g -> g.operationId).toList());
    for (MGrant g : model.grants) {
      JsonObject r = real.get(g.operationId);
      assertThat(r.getLong("balance")).as("balance of " + g.operationId + " at " + where).isEqualTo(g.balance);
      assertThat(r.getString("state")).as("state of " + g.operationId + " at " + where).isEqualTo(g.state(now));
    }
    JsonObject balance = TestApp.await(client.request(io.creditledger.api.Addresses.BALANCE,
        new JsonObject().put("userId", user))).body();
    assertThat(balance.getLong("usageThisCycle")).as("usage at " + where).isEqualTo(model.usage);
    assertThat(balance.getString("nextQuotaReset")).as("next reset at " + where).isEqualTo(model.nextReset.toString());
  }

  static String webhook(String type, JsonObject object, Instant now) {
    String payload = StripeFixtures.event(type, object, now.getEpochSecond()).encode();
    Api.Response r = app.api.withToken(null).rawWithHeader("POST", "/v1/stripe/webhook", "application/json", payload,
        "Stripe-Signature", StripeFixtures.signature(payload, SECRET, now.getEpochSecond()));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().getString("outcome");
  }
}
