package io.creditledger.orgs;

import io.creditledger.api.Addresses;
import io.creditledger.api.LedgerClient;
import io.creditledger.api.LedgerEvent;
import io.creditledger.domain.Org;
import io.creditledger.domain.OrgMember;
import io.creditledger.support.Eventually;
import io.creditledger.support.Api;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Organizations over HTTP and the event bus: an org's shared pool, its members, the credit limit, who spent what,
 * and that the pool and a member's own credits stay apart.
 */
class OrgsHttpTest {
  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "50",
      "LOW_BALANCE_THRESHOLD", "100"),
      started -> app = started);

  private static Api.Response putOrg(String orgId, JsonObject body) {
    return app.api.put("/v1/orgs/" + orgId, body);
  }

  private static void org(String orgId, Long creditLimit, String... members) {
    JsonObject body = new JsonObject().put("name", "Org " + orgId);
    if (creditLimit != null) {
      body.put("creditLimit", creditLimit);
    }
    assertThat(putOrg(orgId, body).status()).isEqualTo(201);
    for (String m : members) {
      app.user(m);
      Api.Response r = app.api.put("/v1/orgs/" + orgId + "/members/" + m, new JsonObject().put("role", "member"));
      assertThat(r.status()).as(r.toString()).isEqualTo(201);
    }
  }

  private static Api.Response orgGrant(String orgId, String operationId, String type, long amount) {
    return app.api.post("/v1/orgs/" + orgId + "/grants", new JsonObject().put("operationId", operationId)
        .put("type", type).put("amount", amount));
  }

  private static Api.Response orgConsume(String orgId, String member, String operationId, long amount) {
    return app.api.post("/v1/orgs/" + orgId + "/consume", new JsonObject().put("operationId", operationId)
        .put("userId", member).put("amount", amount));
  }

  private static JsonObject orgBalance(String orgId) {
    Api.Response r = app.api.get("/v1/orgs/" + orgId + "/balance");
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json();
  }

  @Test
  void anOrgIsCreatedUpdatedAndReadAndStartsWithNothing() {
    Api.Response created = putOrg("acme", new JsonObject().put("name", "Acme").put("creditLimit", 1000)
        .put("stripeCustomerId", "cus_acme").put("centsPerCredit", "0.5"));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    JsonObject org = created.json();
    assertThat(org.getString("orgId")).isEqualTo("acme");
    assertThat(org.getString("name")).isEqualTo("Acme");
    assertThat(org.getLong("creditLimit")).isEqualTo(1000);
    assertThat(org.getString("centsPerCredit")).isEqualTo("0.5");
    assertThat(org.getLong("usageThisCycle")).isZero();
    assertThat(org.getString("nextQuotaReset")).isNotNull();

    Api.Response updated = putOrg("acme", new JsonObject().put("name", "Acme Inc").put("creditLimit", null));
    assertThat(updated.status()).isEqualTo(200);
    assertThat(updated.json().getString("name")).isEqualTo("Acme Inc");
    assertThat(updated.json().getValue("creditLimit")).as("null lifts the limit").isNull();
    assertThat(updated.json().getString("stripeCustomerId")).as("left out: kept").isEqualTo("cus_acme");
    assertThat(app.api.get("/v1/orgs/acme").json()).isEqualTo(updated.json());

    // an org gets no free credits, unlike a user (FREE_GRANT_CREDITS is 50 here)
    assertThat(app.api.get("/v1/orgs/acme/grants").json().getJsonArray("grants")).isEmpty();
    assertThat(orgBalance("acme").getLong("totalRemaining")).isZero();
    assertThat(app.user("acme-user").getString("userId")).isEqualTo("acme-user");
    assertThat(app.balance("acme-user").getLong("totalRemaining")).isEqualTo(50);

    assertThat(putOrg("nameless", new JsonObject()).errorCode()).isEqualTo("missing_field");
    Api.Response missing = app.api.get("/v1/orgs/nobody");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.errorCode()).isEqualTo("org_not_found");
    assertThat(app.api.get("/v1/orgs/nobody/balance").errorCode()).isEqualTo("org_not_found");
    assertThat(putOrg("acme", new JsonObject().put("creditLimit", -1)).errorCode()).isEqualTo("invalid_field");
  }

  @Test
  void membersAreAddedGivenRolesListedAndRemoved() {
    org("crew", null);
    app.user("crew-a");
    app.user("crew-b");
    Api.Response added = app.api.put("/v1/orgs/crew/members/crew-a", new JsonObject().put("role", "owner"));
    assertThat(added.status()).isEqualTo(201);
    assertThat(added.json().getString("role")).isEqualTo("owner");
    assertThat(app.api.put("/v1/orgs/crew/members/crew-b", new JsonObject().put("role", "member")).status())
        .isEqualTo(201);
    Api.Response changed = app.api.put("/v1/orgs/crew/members/crew-b", new JsonObject().put("role", "admin"));
    assertThat(changed.status()).isEqualTo(200);
    assertThat(changed.json().getString("role")).isEqualTo("admin");

    JsonArray members = app.api.get("/v1/orgs/crew/members").json().getJsonArray("members");
    assertThat(members.stream().map(m -> ((JsonObject) m).getString("userId") + ":" + ((JsonObject) m).getString("role")))
        .containsExactly("crew-a:owner", "crew-b:admin");

    assertThat(app.api.put("/v1/orgs/crew/members/ghost", new JsonObject().put("role", "member")).errorCode())
        .isEqualTo("user_not_found");
    assertThat(app.api.put("/v1/orgs/crew/members/crew-a", new JsonObject().put("role", "boss")).errorCode())
        .isEqualTo("invalid_field");
    assertThat(app.api.put("/v1/orgs/nocrew/members/crew-a", new JsonObject().put("role", "member")).errorCode())
        .isEqualTo("org_not_found");

    assertThat(app.api.delete("/v1/orgs/crew/members/crew-b").status()).isEqualTo(200);
    Api.Response again = app.api.delete("/v1/orgs/crew/members/crew-b");
    assertThat(again.status()).isEqualTo(404);
    assertThat(again.errorCode()).isEqualTo("member_not_found");
    assertThat(app.api.get("/v1/orgs/crew/members").json().getJsonArray("members")).hasSize(1);
  }

  @Test
  void membersSpendFromThePoolAndOthersAreRefused() {
    org("pool", null, "pool-a", "pool-b");
    app.user("pool-outsider");
    Api.Response granted = orgGrant("pool", "pool-g1", "organization", 500);
    assertThat(granted.status()).as(granted.toString()).isEqualTo(201);
    assertThat(granted.json().getString("orgId")).isEqualTo("pool");
    assertThat(granted.json().containsKey("userId")).isFalse();
    assertThat(granted.json().getInteger("priority")).isEqualTo(70);
    assertThat(orgGrant("pool", "pool-g2", "purchase", 100).status()).isEqualTo(201);
    assertThat(orgGrant("pool", "pool-g3", "free", 100).errorCode()).as("orgs get no free grants")
        .isEqualTo("invalid_field");
    assertThat(app.grant("pool-a", "pool-a-own-org", "organization", 10).errorCode())
        .as("organization grants are an org's").isEqualTo("invalid_field");

    Api.Response spent = orgConsume("pool", "pool-a", "pool-c1", 120);
    assertThat(spent.status()).as(spent.toString()).isEqualTo(200);
    assertThat(spent.json().getLong("consumed")).isEqualTo(120);
    JsonObject balance = spent.json().getJsonObject("balance");
    assertThat(balance.getLong("totalRemaining")).isEqualTo(480);
    assertThat(balance.getJsonObject("breakdown").getLong("organization")).as("organization credits go first")
        .isEqualTo(380);
    assertThat(balance.getJsonObject("breakdown").getLong("purchase")).isEqualTo(100);
    assertThat(orgBalance("pool").getLong("usageThisCycle")).isEqualTo(120);

    Api.Response replay = orgConsume("pool", "pool-a", "pool-c1", 120);
    assertThat(replay.status()).isEqualTo(200);
    assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(orgConsume("pool", "pool-b", "pool-c1", 120).errorCode()).as("another member, same operationId")
        .isEqualTo("operation_conflict");

    Api.Response outsider = orgConsume("pool", "pool-outsider", "pool-c2", 5);
    assertThat(outsider.status()).isEqualTo(403);
    assertThat(outsider.errorCode()).isEqualTo("not_a_member");
    assertThat(orgConsume("pool", "nobody-at-all", "pool-c3", 5).errorCode()).isEqualTo("not_a_member");

    assertThat(orgConsume("pool", "pool-b", "pool-c4", 30).status()).isEqualTo(200);
    assertThat(app.api.delete("/v1/orgs/pool/members/pool-b").status()).isEqualTo(200);
    Api.Response removed = orgConsume("pool", "pool-b", "pool-c5", 30);
    assertThat(removed.status()).as("a removed member is refused").isEqualTo(403);
    assertThat(removed.errorCode()).isEqualTo("not_a_member");

    JsonArray journal = app.api.get("/v1/orgs/pool/ledger").json().getJsonArray("entries");
    long consumed = journal.stream().map(e -> (JsonObject) e).filter(e -> e.getString("kind").equals("consume"))
        .mapToLong(e -> -e.getLong("delta")).sum();
    assertThat(consumed).isEqualTo(150);
    assertThat(orgBalance("pool").getLong("totalRemaining")).isEqualTo(450);
    assertThat(orgConsume("nopool", "pool-a", "pool-c6", 1).errorCode()).isEqualTo("org_not_found");
  }

  @Test
  void theCreditLimitCapsWhatTheOrgSpendsInACycle() {
    org("capped", 100L, "capped-a");
    assertThat(orgGrant("capped", "capped-g", "organization", 1000).status()).isEqualTo(201);
    assertThat(orgConsume("capped", "capped-a", "capped-c1", 60).status()).isEqualTo(200);
    Api.Response over = orgConsume("capped", "capped-a", "capped-c2", 50);
    assertThat(over.status()).as(over.toString()).isEqualTo(402);
    assertThat(over.errorCode()).isEqualTo("org_credit_limit");
    assertThat(orgConsume("capped", "capped-a", "capped-c3", 40).status()).as("exactly up to the limit")
        .isEqualTo(200);
    assertThat(orgConsume("capped", "capped-a", "capped-c4", 1).errorCode()).isEqualTo("org_credit_limit");
    assertThat(orgBalance("capped").getLong("usageThisCycle")).isEqualTo(100);
    assertThat(orgBalance("capped").getLong("totalRemaining")).isEqualTo(900);
  }

  @Test
  void membersSpendingConcurrentlyNeverOverspendThePoolNorPassTheLimit() throws Exception {
    List<String> members = List.of("race-a", "race-b", "race-c", "race-d");
    org("race", 700L, members.toArray(String[]::new));
    assertThat(orgGrant("race", "race-g", "organization", 1000).status()).isEqualTo(201);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<Api.Response>> answers = new ArrayList<>();
    for (int i = 0; i < 80; i++) {
      String member = members.get(i % members.size());
      String op = "race-c" + i;
      answers.add(pool.submit(() -> orgConsume("race", member, op, 10)));
    }
    int ok = 0;
    for (Future<Api.Response> f : answers) {
      Api.Response r = f.get(60, TimeUnit.SECONDS);
      if (r.status() == 200) {
        ok++;
      } else {
        assertThat(r.errorCode()).as(r.toString()).isEqualTo("org_credit_limit");
      }
    }
    pool.shutdown();
    assertThat(ok).as("exactly the limit's worth").isEqualTo(70);
    JsonObject balance = orgBalance("race");
    assertThat(balance.getLong("usageThisCycle")).isEqualTo(700);
    assertThat(balance.getLong("totalRemaining")).isEqualTo(300);

    // per-member usage adds up to the org's consumption
    JsonObject usage = app.api.get("/v1/orgs/race/usage").json();
    long total = usage.getJsonArray("members").stream().mapToLong(m -> ((JsonObject) m).getLong("credits")).sum();
    assertThat(total).isEqualTo(700).isEqualTo(usage.getLong("total"));
    assertThat(usage.getJsonArray("members")).hasSize(4);

    // without a limit, the pool's bounded debt is the floor
    org("race2", null, "race2-a", "race2-b");
    assertThat(orgGrant("race2", "race2-g", "organization", 200).status()).isEqualTo(201);
    ExecutorService pool2 = Executors.newFixedThreadPool(8);
    List<Future<Api.Response>> answers2 = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      String member = i % 2 == 0 ? "race2-a" : "race2-b";
      String op = "race2-c" + i;
      answers2.add(pool2.submit(() -> orgConsume("race2", member, op, 10)));
    }
    long spent = 0;
    for (Future<Api.Response> f : answers2) {
      Api.Response r = f.get(60, TimeUnit.SECONDS);
      if (r.status() == 200) {
        spent += 10;
      } else {
        assertThat(r.status()).as(r.toString()).isEqualTo(402);
      }
    }
    pool2.shutdown();
    JsonObject b2 = orgBalance("race2");
    assertThat(spent).isLessThanOrEqualTo(200 + app.config.maxDebt());
    assertThat(b2.getLong("usageThisCycle")).isEqualTo(spent);
    assertThat(b2.getLong("netBalance")).isEqualTo(200 - spent);
  }

  @Test
  void aMembersOwnCreditsAndTheOrgsPoolStayApart() {
    org("apart", null, "apart-u");
    assertThat(app.grant("apart-u", "apart-u-p", "purchase", 100).status()).isEqualTo(201);
    assertThat(orgGrant("apart", "apart-g", "organization", 300).status()).isEqualTo(201);
    long ownBefore = app.balance("apart-u").getLong("totalRemaining");

    assertThat(app.consume("apart-u", "apart-own-1", 30).status()).isEqualTo(200);
    assertThat(orgBalance("apart").getLong("totalRemaining")).as("the user's route spends the user's credits")
        .isEqualTo(300);
    assertThat(app.balance("apart-u").getLong("totalRemaining")).isEqualTo(ownBefore - 30);

    assertThat(orgConsume("apart", "apart-u", "apart-org-1", 70).status()).isEqualTo(200);
    assertThat(app.balance("apart-u").getLong("totalRemaining")).as("the org's route spends the org's")
        .isEqualTo(ownBefore - 30);
    assertThat(orgBalance("apart").getLong("totalRemaining")).isEqualTo(230);
    assertThat(app.balance("apart-u").containsKey("organization")).isFalse();
    assertThat(app.balance("apart-u").getJsonObject("breakdown").fieldNames())
        .as("a user's balance lists the types it always did")
        .containsExactlyInAnyOrder("free", "referral", "rollover", "purchase", "admin");

    Api.Response audit = app.admin.get("/v1/admin/audit");
    assertThat(audit.json().getBoolean("ok")).as(audit.toString()).isTrue();
  }

  @Test
  void theUsageReportCountsARange() {
    org("ranged", null, "ranged-a", "ranged-b");
    assertThat(orgGrant("ranged", "ranged-g", "organization", 1000).status()).isEqualTo(201);
    Instant t0 = app.clock.instant();
    assertThat(orgConsume("ranged", "ranged-a", "ranged-1", 10).status()).isEqualTo(200);
    app.clock.advance(java.time.Duration.ofHours(1));
    Instant t1 = app.clock.instant();
    assertThat(orgConsume("ranged", "ranged-b", "ranged-2", 20).status()).isEqualTo(200);
    assertThat(orgConsume("ranged", "ranged-a", "ranged-3", 5).status()).isEqualTo(200);

    JsonObject all = app.api.get("/v1/orgs/ranged/usage?from=" + t0 + "&to=" + t1.plusSeconds(1)).json();
    assertThat(all.getLong("total")).isEqualTo(35);
    JsonObject later = app.api.get("/v1/orgs/ranged/usage?from=" + t1 + "&to=" + t1.plusSeconds(1)).json();
    assertThat(later.getJsonArray("members").stream().map(m -> ((JsonObject) m).getString("userId") + "="
        + ((JsonObject) m).getLong("credits"))).containsExactly("ranged-a=5", "ranged-b=20");
    assertThat(app.api.get("/v1/orgs/ranged/usage?from=" + t1 + "&to=" + t0).errorCode()).isEqualTo("invalid_field");
    assertThat(app.api.get("/v1/orgs/ranged/usage?from=yesterday").errorCode()).isEqualTo("invalid_field");
  }

  @Test
  void theEventBusTakesTheSameCommands() {
    JsonObject org = TestApp.await(app.vertx.eventBus().<JsonObject>request(Addresses.ORG_PUT,
        new JsonObject().put("orgId", "bus").put("name", "Bus").put("creditLimit", 50))).body();
    assertThat(org.getString("orgId")).isEqualTo("bus");
    app.user("bus-a");
    TestApp.await(app.vertx.eventBus().request(Addresses.ORG_MEMBER_PUT,
        new JsonObject().put("orgId", "bus").put("userId", "bus-a").put("role", "member")));
    TestApp.await(app.vertx.eventBus().request(Addresses.GRANT_CREATE, new JsonObject().put("orgId", "bus")
        .put("operationId", "bus-g").put("type", "organization").put("amount", 100)));
    JsonObject spent = TestApp.await(app.vertx.eventBus().<JsonObject>request(Addresses.CONSUME,
        new JsonObject().put("orgId", "bus").put("userId", "bus-a").put("operationId", "bus-c").put("amount", 30)))
        .body();
    assertThat(spent.getJsonObject("balance").getLong("totalRemaining")).isEqualTo(70);
    JsonObject hold = TestApp.await(app.vertx.eventBus().<JsonObject>request(Addresses.HOLD_PLACE,
        new JsonObject().put("orgId", "bus").put("userId", "bus-a").put("operationId", "bus-h").put("amount", 10)))
        .body();
    assertThat(hold.getString("orgId")).isEqualTo("bus");
    TestApp.await(app.vertx.eventBus().request(Addresses.HOLD_CAPTURE, new JsonObject().put("orgId", "bus")
        .put("holdId", "bus-h").put("operationId", "bus-cap").put("amount", 10)));
    JsonObject usage = TestApp.await(app.vertx.eventBus().<JsonObject>request(Addresses.ORG_USAGE,
        new JsonObject().put("orgId", "bus"))).body();
    assertThat(usage.getLong("total")).isEqualTo(40);
    JsonObject members = TestApp.await(app.vertx.eventBus().<JsonObject>request(Addresses.ORG_MEMBER_LIST,
        new JsonObject().put("orgId", "bus"))).body();
    assertThat(members.getJsonArray("members")).hasSize(1);

    // and through the typed client, which reads the same answers
    LedgerClient client = new LedgerClient(app.vertx);
    Org typed = TestApp.await(client.putOrg("bus2", "Bus two", null, 100L));
    assertThat(typed.orgId()).isEqualTo("bus2");
    assertThat(typed.creditLimit()).isEqualTo(100L);
    assertThat(TestApp.await(client.putOrgMember("bus2", "bus-a", OrgMember.Role.ADMIN)).role())
        .isEqualTo(OrgMember.Role.ADMIN);
    TestApp.await(client.request(Addresses.GRANT_CREATE, new JsonObject().put("orgId", "bus2")
        .put("operationId", "bus2-g").put("type", "organization").put("amount", 50)));
    assertThat(TestApp.await(client.consumeFromOrg("bus2", "bus-a", "bus2-c", 20)).consumed()).isEqualTo(20);
    assertThat(TestApp.await(client.orgBalance("bus2")).totalRemaining()).isEqualTo(30);
    assertThat(TestApp.await(client.orgUsage("bus2", null, null)).total()).isEqualTo(20);
    assertThat(TestApp.await(client.getOrg("bus2")).account().usageThisCycle()).isEqualTo(20);
    assertThat(TestApp.await(client.orgMembers("bus2"))).extracting(OrgMember::userId).containsExactly("bus-a");
    assertThat(TestApp.await(client.deleteOrgMember("bus2", "bus-a")).userId()).isEqualTo("bus-a");
    assertThat(TestApp.await(client.orgMembers("bus2"))).isEmpty();
  }

  @Test
  void membersHoldAndCaptureOnThePoolWithinTheLimit() {
    org("held", 300L, "held-a", "held-b");
    app.user("held-outsider");
    assertThat(orgGrant("held", "held-g", "organization", 1000).status()).isEqualTo(201);
    Api.Response hold = app.api.post("/v1/orgs/held/holds", new JsonObject().put("operationId", "held-h1")
        .put("userId", "held-a").put("amount", 200));
    assertThat(hold.status()).as(hold.toString()).isEqualTo(201);
    assertThat(hold.json().getString("orgId")).isEqualTo("held");
    assertThat(hold.json().getString("userId")).as("the member it is for").isEqualTo("held-a");
    assertThat(hold.json().getJsonObject("balance").getLong("held")).isEqualTo(200);

    Api.Response outsider = app.api.post("/v1/orgs/held/holds", new JsonObject().put("operationId", "held-h2")
        .put("userId", "held-outsider").put("amount", 10));
    assertThat(outsider.errorCode()).isEqualTo("not_a_member");
    // the limit counts what holds reserve: 200 held + 150 > 300
    assertThat(orgConsume("held", "held-b", "held-c1", 150).errorCode()).isEqualTo("org_credit_limit");
    assertThat(app.api.post("/v1/orgs/held/holds", new JsonObject().put("operationId", "held-h3")
        .put("userId", "held-b").put("amount", 101)).errorCode()).isEqualTo("org_credit_limit");
    assertThat(orgConsume("held", "held-b", "held-c2", 100).status()).isEqualTo(200);

    Api.Response captured = app.api.post("/v1/orgs/held/holds/held-h1/capture", new JsonObject()
        .put("operationId", "held-cap").put("amount", 150));
    assertThat(captured.status()).as(captured.toString()).isEqualTo(200);
    assertThat(captured.json().getLong("released")).isEqualTo(50);
    assertThat(app.api.get("/v1/orgs/held/holds/held-h1").json().getString("state")).isEqualTo("captured");
    assertThat(app.api.get("/v1/orgs/held/holds?state=captured").json().getJsonArray("holds")).hasSize(1);

    JsonObject usage = app.api.get("/v1/orgs/held/usage").json();
    assertThat(usage.getJsonArray("members").stream().map(m -> ((JsonObject) m).getString("userId") + "="
        + ((JsonObject) m).getLong("credits"))).as("the capture is the hold's member's usage")
        .containsExactly("held-a=150", "held-b=100");
    assertThat(orgBalance("held").getLong("usageThisCycle")).isEqualTo(250).isEqualTo(usage.getLong("total"));

    assertThat(app.api.post("/v1/orgs/held/holds", new JsonObject().put("operationId", "held-h4")
        .put("userId", "held-b").put("amount", 40)).status()).isEqualTo(201);
    Api.Response released = app.api.post("/v1/orgs/held/holds/held-h4/release", new JsonObject());
    assertThat(released.status()).isEqualTo(200);
    assertThat(released.json().getString("state")).isEqualTo("released");
    assertThat(orgBalance("held").getLong("held")).isZero();
    assertThat(app.api.get("/v1/orgs/held/holds/nothing").errorCode()).isEqualTo("hold_not_found");
    JsonObject orgAudit = app.admin.get("/v1/admin/audit?orgId=held").json();
    assertThat(orgAudit.getString("orgId")).isEqualTo("held");
    assertThat(orgAudit.getBoolean("ok")).as(orgAudit.encode()).isTrue();
    assertThat(app.admin.get("/v1/admin/audit").json().getBoolean("ok")).isTrue();
  }

  @Test
  void eventsAboutAnOrgsPoolNameTheOrg() {
    List<LedgerEvent> seen = new CopyOnWriteArrayList<>();
    MessageConsumer<JsonObject> consumer = new LedgerClient(app.vertx).subscribe(seen::add);
    try {
      org("heard", null, "heard-a");
      assertThat(orgGrant("heard", "heard-g", "organization", 150).status()).isEqualTo(201);
      // LOW_BALANCE_THRESHOLD is 100 here: 150 -> 40 crosses it
      assertThat(orgConsume("heard", "heard-a", "heard-c", 110).status()).isEqualTo(200);
      Eventually.await("the org's events", Duration.ofSeconds(10), () -> seen.stream()
          .filter(e -> "heard".equals(e.accountId())).count() == 2);
      List<LedgerEvent> mine = seen.stream().filter(e -> "heard".equals(e.accountId())).toList();
      assertThat(mine).extracting(LedgerEvent::type).containsExactly("grant.created", "balance.low");
      assertThat(mine).allSatisfy(e -> {
        assertThat(e.accountType()).isEqualTo("org");
        assertThat(e.userId()).isNull();
      });
      assertThat(mine.get(0).data().getString("orgId")).isEqualTo("heard");
      assertThat(mine.get(1).data().getString("orgId")).isEqualTo("heard");
      assertThat(mine.get(1).data().containsKey("userId")).isFalse();
    } finally {
      consumer.unregister();
    }
  }

  @Test
  void orgFreeGrantCreditsGivesOrgsAFreeGrantAtCreationAndEachCycle() {
    try (TestApp own = TestApp.start(Map.of("FREE_GRANT_CREDITS", "50", "ORG_FREE_GRANT_CREDITS", "25"))) {
      assertThat(own.api.put("/v1/orgs/freebie", new JsonObject().put("name", "Freebie")).status()).isEqualTo(201);
      JsonArray grants = own.api.get("/v1/orgs/freebie/grants").json().getJsonArray("grants");
      assertThat(grants.stream().map(g -> ((JsonObject) g).getString("type") + ":" + ((JsonObject) g).getLong("principal")))
          .containsExactly("free:25");
      assertThat(own.api.put("/v1/orgs/freebie", new JsonObject().put("name", "Freebie 2")).status()).isEqualTo(200);
      assertThat(own.api.get("/v1/orgs/freebie/grants").json().getJsonArray("grants")).as("an update grants nothing")
          .hasSize(1);
      Instant next = Instant.parse(own.api.get("/v1/orgs/freebie").json().getString("nextQuotaReset"));
      own.clock.set(next.plusSeconds(1));
      assertThat(own.admin.post("/v1/admin/resets/run", new JsonObject()).status()).isEqualTo(200);
      JsonObject balance = own.api.get("/v1/orgs/freebie/balance").json();
      assertThat(balance.getJsonObject("breakdown").getLong("free")).as("the next cycle's free grant").isEqualTo(25);
    }
  }

  @Test
  void anOrgsResetRollsItsPurchasedCreditsOverAndGrantsNothingFree() {
    try (TestApp own = TestApp.start(Map.of("FREE_GRANT_CREDITS", "50"))) {
      Api api = own.api;
      assertThat(api.put("/v1/orgs/cycle", new JsonObject().put("name", "Cycle")).status()).isEqualTo(201);
      own.user("cycle-a");
      assertThat(api.put("/v1/orgs/cycle/members/cycle-a", new JsonObject().put("role", "owner")).status())
          .isEqualTo(201);
      assertThat(api.post("/v1/orgs/cycle/grants", new JsonObject().put("operationId", "cycle-p").put("type", "purchase")
          .put("amount", 400)).status()).isEqualTo(201);
      assertThat(api.post("/v1/orgs/cycle/consume", new JsonObject().put("operationId", "cycle-c").put("userId", "cycle-a")
          .put("amount", 100)).status()).isEqualTo(200);
      Instant next = Instant.parse(api.get("/v1/orgs/cycle").json().getString("nextQuotaReset"));

      own.clock.set(next.plusSeconds(1));
      Api.Response run = own.admin.post("/v1/admin/resets/run", new JsonObject());
      assertThat(run.status()).as(run.toString()).isEqualTo(200);

      JsonObject org = api.get("/v1/orgs/cycle").json();
      assertThat(org.getLong("usageThisCycle")).isZero();
      assertThat(Instant.parse(org.getString("nextQuotaReset"))).isAfter(next);
      JsonArray grants = api.get("/v1/orgs/cycle/grants").json().getJsonArray("grants");
      List<String> live = grants.stream().map(g -> (JsonObject) g).filter(g -> g.getString("state").equals("active"))
          .map(g -> g.getString("type") + ":" + g.getLong("balance")).toList();
      assertThat(live).as("the purchase rolled over, and no free grant").containsExactly("rollover:300");
      assertThat(api.get("/v1/orgs/cycle/balance").json().getLong("totalRemaining")).isEqualTo(300);
      assertThat(own.admin.get("/v1/admin/audit").json().getBoolean("ok")).isTrue();
    }
  }
}
