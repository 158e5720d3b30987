package io.creditledger.wire;

import io.creditledger.domain.Accounts;
import io.creditledger.domain.ApiKey;
import io.creditledger.domain.AuditReport;
import io.creditledger.domain.AutoTopUp;
import io.creditledger.domain.Balance;
import io.creditledger.domain.Capture;
import io.creditledger.domain.Consumption;
import io.creditledger.domain.EventType;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.Hold;
import io.creditledger.domain.HoldAnswer;
import io.creditledger.domain.JournalEntry;
import io.creditledger.domain.JournalKind;
import io.creditledger.domain.MirrorDrift;
import io.creditledger.domain.Org;
import io.creditledger.domain.OrgMember;
import io.creditledger.domain.OrgUsage;
import io.creditledger.domain.OutboxAction;
import io.creditledger.domain.OutboxStatus;
import io.creditledger.domain.Page;
import io.creditledger.domain.Readiness;
import io.creditledger.domain.ReconcileRun;
import io.creditledger.domain.Referral;
import io.creditledger.domain.ResetOutcome;
import io.creditledger.domain.ResetRun;
import io.creditledger.domain.User;
import io.creditledger.domain.WebhookDelivery;
import io.creditledger.domain.WebhookEndpoint;
import io.creditledger.domain.WebhookOutcome;
import io.creditledger.money.CentsPerCredit;
import io.creditledger.stripe.OutboxRow;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The ledger's answers as JSON, written and read by the same code: the endpoints write them, the typed client and
 * the idempotent replays read them back, so a writer and its reader cannot drift apart (each pair is tested by a
 * round trip). Instants travel as ISO-8601 UTC text, {@code centsPerCredit} as a decimal string.
 */
public final class Json {
  private Json() {
  }

  // ---- users

  public static JsonObject user(User u) {
    return new JsonObject()
        .put("userId", u.userId())
        .put("email", u.email())
        .put("stripeCustomerId", u.stripeCustomerId())
        .put("centsPerCredit", u.centsPerCredit().toPlainString())
        .put("billingAnchorDay", u.billingAnchorDay())
        .put("nextQuotaReset", text(u.nextQuotaReset()))
        .put("usageThisCycle", u.usageThisCycle())
        .put("referralLimit", u.referralLimit())
        .put("createdAt", text(u.createdAt()))
        .put("updatedAt", text(u.updatedAt()));
  }

  public static User readUser(JsonObject j) {
    return new User(j.getString("userId"), j.getString("email"), j.getString("stripeCustomerId"),
        new BigDecimal(j.getString("centsPerCredit")), j.getInteger("billingAnchorDay"), instant(j, "nextQuotaReset"),
        j.getLong("usageThisCycle"), j.getInteger("referralLimit"), instant(j, "createdAt"), instant(j, "updatedAt"));
  }

  // ---- organizations

  /** The account a row belongs to, as answers name it: {@code {"userId": ...}} or, an org's, {@code {"orgId": ...}}. */
  public static JsonObject owner(String accountKey) {
    return Accounts.isOrg(accountKey) ? new JsonObject().put("orgId", Accounts.orgId(accountKey))
        : new JsonObject().put("userId", accountKey);
  }

  /** The account key {@link #owner} wrote: an org's from {@code orgId}, else the {@code userId}. */
  private static String readOwner(JsonObject j) {
    return j.containsKey("orgId") ? Accounts.ofOrg(j.getString("orgId")) : j.getString("userId");
  }

  /** Events name their account by kind and id: {@code accountType} user or org, {@code accountId}. */
  public static JsonObject account(String accountKey) {
    return Accounts.isOrg(accountKey)
        ? new JsonObject().put("accountType", "org").put("accountId", Accounts.orgId(accountKey))
        : new JsonObject().put("accountType", "user").put("accountId", accountKey);
  }

  public static JsonObject org(Org o) {
    User a = o.account();
    return new JsonObject()
        .put("orgId", o.orgId())
        .put("name", o.name())
        .put("stripeCustomerId", a.stripeCustomerId())
        .put("centsPerCredit", a.centsPerCredit().toPlainString())
        .put("creditLimit", o.creditLimit())
        .put("billingAnchorDay", a.billingAnchorDay())
        .put("nextQuotaReset", text(a.nextQuotaReset()))
        .put("usageThisCycle", a.usageThisCycle())
        .put("createdAt", text(o.createdAt()))
        .put("updatedAt", text(o.updatedAt()));
  }

  public static Org readOrg(JsonObject j) {
    User account = new User(Accounts.ofOrg(j.getString("orgId")), null, j.getString("stripeCustomerId"),
        new BigDecimal(j.getString("centsPerCredit")), j.getInteger("billingAnchorDay"), instant(j, "nextQuotaReset"),
        j.getLong("usageThisCycle"), null, instant(j, "createdAt"), instant(j, "updatedAt"));
    return new Org(j.getString("orgId"), j.getString("name"), j.getLong("creditLimit"), account,
        instant(j, "createdAt"), instant(j, "updatedAt"));
  }

  public static JsonObject orgMember(OrgMember m) {
    return new JsonObject().put("orgId", m.orgId()).put("userId", m.userId()).put("role", m.role().wire())
        .put("addedAt", text(m.addedAt()));
  }

  public static OrgMember readOrgMember(JsonObject j) {
    return new OrgMember(j.getString("orgId"), j.getString("userId"), OrgMember.Role.fromWire(j.getString("role")),
        instant(j, "addedAt"));
  }

  public static JsonObject orgMembers(List<OrgMember> members) {
    return new JsonObject().put("members", new JsonArray(members.stream().map(Json::orgMember).toList()));
  }

  public static List<OrgMember> readOrgMembers(JsonObject j) {
    List<OrgMember> out = new ArrayList<>();
    j.getJsonArray("members").forEach(o -> out.add(readOrgMember((JsonObject) o)));
    return List.copyOf(out);
  }

  public static JsonObject orgUsage(OrgUsage u) {
    JsonArray members = new JsonArray();
    u.members().forEach(m -> members.add(new JsonObject().put("userId", m.userId()).put("credits", m.credits())));
    return new JsonObject().put("orgId", u.orgId()).put("from", text(u.from())).put("to", text(u.to()))
        .put("members", members).put("total", u.total());
  }

  public static OrgUsage readOrgUsage(JsonObject j) {
    List<OrgUsage.Member> members = new ArrayList<>();
    j.getJsonArray("members").forEach(o -> {
      JsonObject m = (JsonObject) o;
      members.add(new OrgUsage.Member(m.getString("userId"), m.getLong("credits")));
    });
    return new OrgUsage(j.getString("orgId"), instant(j, "from"), instant(j, "to"), List.copyOf(members));
  }

  // ---- grants

  /** A grant; an org's says {@code orgId} where a user's says {@code userId}. */
  public static JsonObject grant(GrantView g) {
    return new JsonObject()
        .put("grantId", g.grantId())
        .put("operationId", g.operationId())
        .mergeIn(owner(g.userId()))
        .put("type", g.type().wire())
        .put("priority", g.priority())
        .put("principal", g.principal())
        .put("balance", g.balance())
        .put("cents", g.cents())
        .put("centsPerCredit", CentsPerCredit.normalize(g.centsPerCredit()).toPlainString())
        .put("expiresAt", text(g.expiresAt()))
        .put("description", g.description())
        .put("state", g.state())
        .put("createdAt", text(g.createdAt()))
        .put("closedAt", text(g.closedAt()))
        .put("closeReason", g.closeReason())
        .put("stripe", new JsonObject()
            .put("state", g.stripe().state())
            .put("stripeGrantId", g.stripe().stripeGrantId())
            .put("voided", g.stripe().voided()));
  }

  public static GrantView readGrant(JsonObject j) {
    JsonObject s = j.getJsonObject("stripe");
    String account = readOwner(j);
    return new GrantView(j.getLong("grantId"), j.getString("operationId"), account,
        GrantType.fromWire(j.getString("type")), j.getInteger("priority"), j.getLong("principal"), j.getLong("balance"),
        j.getLong("cents"), new BigDecimal(j.getString("centsPerCredit")), instant(j, "expiresAt"),
        j.getString("description"), j.getString("state"), instant(j, "createdAt"), instant(j, "closedAt"),
        j.getString("closeReason"),
        new GrantView.StripeSync(s.getString("state"), s.getString("stripeGrantId"), s.getBoolean("voided")));
  }

  public static JsonObject created(GrantView.Created c) {
    return grant(c.grant()).put("debtSettled", c.debtSettled());
  }

  public static GrantView.Created readCreated(JsonObject j) {
    return new GrantView.Created(readGrant(j), j.getLong("debtSettled"));
  }

  public static JsonObject revoked(GrantView.Revoked r) {
    return grant(r.grant()).put("revoked", r.revoked());
  }

  public static GrantView.Revoked readRevoked(JsonObject j) {
    return new GrantView.Revoked(readGrant(j), j.getLong("revoked"));
  }

  public static JsonObject grants(Page<GrantView> page) {
    return page("grants", page, Json::grant);
  }

  public static Page<GrantView> readGrants(JsonObject j) {
    return readPage("grants", j, Json::readGrant);
  }

  // ---- balances and consumption

  public static JsonObject balance(Balance b) {
    return new JsonObject()
        .put("totalRemaining", b.totalRemaining())
        .put("totalDebt", b.totalDebt())
        .put("netBalance", b.netBalance())
        .put("held", b.held())
        .put("available", b.available())
        .put("breakdown", byType(b.breakdown()))
        .put("principals", byType(b.principals()))
        .put("usageThisCycle", b.usageThisCycle())
        .put("nextQuotaReset", text(b.nextQuotaReset()));
  }

  public static Balance readBalance(JsonObject j) {
    // answers stored before holds existed have neither held nor available
    return new Balance(j.getLong("totalRemaining"), j.getLong("totalDebt"), j.getLong("netBalance"),
        j.getLong("held", 0L), j.getLong("available", j.getLong("netBalance")),
        readByType(j.getJsonObject("breakdown")), readByType(j.getJsonObject("principals")),
        j.getLong("usageThisCycle"), instant(j, "nextQuotaReset"));
  }

  public static JsonObject consumption(Consumption c) {
    return new JsonObject()
        .put("operationId", c.operationId())
        .put("consumed", c.consumed())
        .put("fromPurchased", c.fromPurchased())
        .put("balance", balance(c.balance()));
  }

  public static Consumption readConsumption(JsonObject j) {
    return new Consumption(j.getString("operationId"), j.getLong("consumed"), j.getLong("fromPurchased"),
        readBalance(j.getJsonObject("balance")));
  }

  // ---- holds

  public static JsonObject hold(Hold h) {
    // an org's hold names the org and the member it is for
    JsonObject j = new JsonObject()
        .put("holdId", h.holdId())
        .mergeIn(Accounts.isOrg(h.userId()) ? owner(h.userId()).put("userId", h.memberId()) : owner(h.userId()))
        .put("amount", h.amount())
        .put("state", h.state().wire())
        .put("expiresAt", text(h.expiresAt()))
        .put("createdAt", text(h.createdAt()));
    if (h.closedAt() != null) {
      j.put("closedAt", text(h.closedAt()));
    }
    if (h.captureOperationId() != null) {
      j.put("captureOperationId", h.captureOperationId()).put("captured", h.captured());
    }
    return j;
  }

  public static Hold readHold(JsonObject j) {
    boolean org = j.containsKey("orgId");
    return new Hold(j.getString("holdId"), org ? Accounts.ofOrg(j.getString("orgId")) : j.getString("userId"),
        j.getLong("amount"), Hold.State.fromWire(j.getString("state")), instant(j, "expiresAt"),
        instant(j, "createdAt"), instant(j, "closedAt"), j.getString("captureOperationId"), j.getLong("captured"),
        org ? j.getString("userId") : null);
  }

  /** A hold with, after placing or releasing it, the user's balance. */
  public static JsonObject holdAnswer(HoldAnswer a) {
    JsonObject j = hold(a.hold());
    if (a.balance() != null) {
      j.put("balance", balance(a.balance()));
    }
    return j;
  }

  public static HoldAnswer readHoldAnswer(JsonObject j) {
    JsonObject balance = j.getJsonObject("balance");
    return new HoldAnswer(readHold(j), balance == null ? null : readBalance(balance));
  }

  public static JsonObject holds(List<Hold> holds) {
    JsonArray list = new JsonArray();
    holds.forEach(h -> list.add(hold(h)));
    return new JsonObject().put("holds", list);
  }

  public static List<Hold> readHolds(JsonObject j) {
    List<Hold> holds = new ArrayList<>();
    j.getJsonArray("holds").forEach(h -> holds.add(readHold((JsonObject) h)));
    return holds;
  }

  /** A capture answers like a consumption, plus the hold and what of it was let go. */
  public static JsonObject capture(Capture c) {
    return consumption(c.consumption()).put("holdId", c.holdId()).put("released", c.released());
  }

  public static Capture readCapture(JsonObject j) {
    return new Capture(j.getString("holdId"), j.getLong("released"), readConsumption(j));
  }

  // ---- the journal

  public static JsonObject entry(JournalEntry e) {
    return new JsonObject()
        .put("entryId", e.entryId())
        .put("grantId", e.grantId())
        .put("grantOperationId", e.grantOperationId())
        .put("grantType", e.grantType().wire())
        .put("operationId", e.operationId())
        .put("kind", e.kind().wire())
        .put("delta", e.delta())
        .put("balanceAfter", e.balanceAfter())
        .put("description", e.description())
        .put("createdAt", text(e.createdAt()));
  }

  public static JournalEntry readEntry(JsonObject j) {
    return new JournalEntry(j.getLong("entryId"), j.getLong("grantId"), j.getString("grantOperationId"),
        GrantType.fromWire(j.getString("grantType")), j.getString("operationId"), JournalKind.fromWire(j.getString("kind")),
        j.getLong("delta"), j.getLong("balanceAfter"), j.getString("description"), instant(j, "createdAt"));
  }

  public static JsonObject entries(Page<JournalEntry> page) {
    return page("entries", page, Json::entry);
  }

  public static Page<JournalEntry> readEntries(JsonObject j) {
    return readPage("entries", j, Json::readEntry);
  }

  // ---- referrals and resets

  public static JsonObject referral(Referral r) {
    return new JsonObject()
        .put("operationId", r.operationId())
        .put("referrerId", r.referrerId())
        .put("referredId", r.referredId())
        .put("credits", r.credits())
        .put("referrerGrant", created(r.referrerGrant()))
        .put("referredGrant", created(r.referredGrant()));
  }

  public static Referral readReferral(JsonObject j) {
    return new Referral(j.getString("operationId"), j.getString("referrerId"), j.getString("referredId"),
        j.getLong("credits"), readCreated(j.getJsonObject("referrerGrant")), readCreated(j.getJsonObject("referredGrant")));
  }

  public static JsonObject resetOutcome(ResetOutcome r) {
    JsonObject j = new JsonObject().put("userId", r.userId()).put("reset", r.reset());
    if (!r.reset()) {
      return j.put("nextQuotaReset", text(r.nextQuotaReset()));
    }
    return j.put("cycleEnded", text(r.cycleEnded()))
        .put("nextQuotaReset", text(r.nextQuotaReset()))
        .put("expired", r.expired())
        .put("rolledOver", r.rolledOver())
        .put("grants", new JsonArray(new ArrayList<>(r.grants())));
  }

  public static ResetOutcome readResetOutcome(JsonObject j) {
    if (!j.getBoolean("reset")) {
      return ResetOutcome.notDue(j.getString("userId"), instant(j, "nextQuotaReset"));
    }
    List<String> grants = new ArrayList<>();
    j.getJsonArray("grants").forEach(g -> grants.add((String) g));
    return new ResetOutcome(j.getString("userId"), true, instant(j, "cycleEnded"), instant(j, "nextQuotaReset"),
        j.getLong("expired"), j.getLong("rolledOver"), List.copyOf(grants));
  }

  public static JsonObject resetRun(ResetRun run) {
    JsonArray failed = new JsonArray();
    run.failed().forEach(f -> failed.add(new JsonObject().put("userId", f.userId()).put("error", f.error())));
    return new JsonObject().put("reset", run.reset()).put("failed", failed);
  }

  public static ResetRun readResetRun(JsonObject j) {
    List<ResetRun.Failure> failed = new ArrayList<>();
    j.getJsonArray("failed").forEach(o -> {
      JsonObject f = (JsonObject) o;
      failed.add(new ResetRun.Failure(f.getString("userId"), f.getString("error")));
    });
    return new ResetRun(j.getInteger("reset"), List.copyOf(failed));
  }

  // ---- Stripe

  public static JsonObject webhook(WebhookOutcome w) {
    return new JsonObject().put("received", true).put("eventId", w.eventId()).put("type", w.type())
        .put("outcome", w.outcome());
  }

  public static WebhookOutcome readWebhook(JsonObject j) {
    return new WebhookOutcome(j.getString("eventId"), j.getString("type"), j.getString("outcome"));
  }

  public static JsonObject outboxRow(OutboxRow r) {
    return new JsonObject()
        .put("outboxId", r.outboxId())
        .put("grantId", r.grantId())
        .put("grantOperationId", r.grantOperationId())
        .put("userId", r.userId())
        .put("action", r.action().wire())
        .put("idempotencyKey", r.idempotencyKey())
        .put("status", r.status().wire())
        .put("attempts", r.attempts())
        .put("nextAttemptAt", text(r.nextAttemptAt()))
        .put("lastError", r.lastError())
        .put("stripeObjectId", r.stripeObjectId())
        .put("payload", r.payload())
        .put("createdAt", text(r.createdAt()))
        .put("deliveredAt", text(r.deliveredAt()));
  }

  /** A row as listed (the relay's view of the grant's Stripe id and the first attempt are not shown). */
  public static OutboxRow readOutboxRow(JsonObject j) {
    return new OutboxRow(j.getLong("outboxId"), j.getLong("grantId"), j.getString("grantOperationId"),
        j.getString("userId"), OutboxAction.fromWire(j.getString("action")), j.getString("idempotencyKey"),
        j.getJsonObject("payload"), OutboxStatus.fromWire(j.getString("status")), j.getInteger("attempts"),
        instant(j, "nextAttemptAt"), j.getString("lastError"), j.getString("stripeObjectId"), null,
        instant(j, "createdAt"), instant(j, "deliveredAt"), null);
  }

  public static JsonObject autoTopUp(AutoTopUp t) {
    return new JsonObject()
        .mergeIn(owner(t.userId()))
        .put("enabled", t.enabled())
        .put("threshold", t.threshold())
        .put("amount", t.amount())
        .put("paymentMethodId", t.paymentMethodId())
        .put("inFlight", t.inFlight() != null)
        .put("lastAttemptAt", text(t.lastAttemptAt()))
        .put("lastError", t.lastError())
        .put("disabledReason", t.disabledReason());
  }

  /** An endpoint; {@code secret} only when the endpoint carries it (the answer that set it). */
  public static JsonObject webhookEndpoint(WebhookEndpoint e) {
    JsonObject j = new JsonObject()
        .put("endpointId", e.endpointId())
        .put("url", e.url())
        .put("events", new JsonArray(e.eventTypes().stream().map(EventType::wire).toList()))
        .put("createdAt", text(e.createdAt()))
        .put("updatedAt", text(e.updatedAt()));
    return e.secret() == null ? j : j.put("secret", e.secret());
  }

  public static JsonObject webhookEndpoints(List<WebhookEndpoint> endpoints) {
    return new JsonObject().put("endpoints", new JsonArray(endpoints.stream().map(Json::webhookEndpoint).toList()));
  }

  public static JsonObject webhookDelivery(WebhookDelivery d) {
    return new JsonObject()
        .put("deliveryId", d.deliveryId())
        .put("eventId", d.eventId())
        .put("type", d.type().wire())
        .put("userId", d.userId())
        .put("endpointId", d.endpointId())
        .put("status", d.status().wire())
        .put("attempts", d.attempts())
        .put("nextAttemptAt", text(d.nextAttemptAt()))
        .put("lastError", d.lastError())
        .put("createdAt", text(d.createdAt()))
        .put("deliveredAt", text(d.deliveredAt()));
  }

  public static JsonObject webhookDeliveries(Page<WebhookDelivery> page) {
    return page("deliveries", page, Json::webhookDelivery);
  }

  public static JsonObject outboxRows(Page<OutboxRow> page) {
    return page("rows", page, Json::outboxRow);
  }

  public static Page<OutboxRow> readOutboxRows(JsonObject j) {
    return readPage("rows", j, Json::readOutboxRow);
  }

  public static JsonObject reconcileRun(ReconcileRun run) {
    return new JsonObject()
        .put("runId", run.runId())
        .put("userId", run.userId())
        .put("repair", run.repair())
        .put("checked", run.checked())
        .put("repaired", run.repaired())
        .put("drift", driftReports(run.drift()))
        .put("startedAt", text(run.startedAt()))
        .put("finishedAt", text(run.finishedAt()));
  }

  public static JsonArray driftReports(List<ReconcileRun.DriftReport> reports) {
    JsonArray drift = new JsonArray();
    reports.forEach(d -> drift.add(new JsonObject()
        .put("userId", d.userId())
        .put("operationId", d.operationId())
        .put("stripeGrantId", d.stripeGrantId())
        .put("kind", d.kind().wire())
        .put("local", side(d.local()))
        .put("stripe", side(d.stripe()))));
    return drift;
  }

  public static ReconcileRun readReconcileRun(JsonObject j) {
    return new ReconcileRun(j.getLong("runId"), j.getString("userId"), j.getBoolean("repair"), j.getInteger("checked"),
        j.getBoolean("repaired"), readDriftReports(j.getJsonArray("drift")), instant(j, "startedAt"),
        instant(j, "finishedAt"));
  }

  public static List<ReconcileRun.DriftReport> readDriftReports(JsonArray reports) {
    List<ReconcileRun.DriftReport> drift = new ArrayList<>();
    reports.forEach(o -> {
      JsonObject d = (JsonObject) o;
      drift.add(new ReconcileRun.DriftReport(d.getString("userId"), d.getString("operationId"),
          d.getString("stripeGrantId"), MirrorDrift.Kind.fromWire(d.getString("kind")), readSide(d.getJsonObject("local")),
          readSide(d.getJsonObject("stripe"))));
    });
    return List.copyOf(drift);
  }

  private static JsonObject side(ReconcileRun.Side s) {
    return s == null ? null : new JsonObject().put("stripeGrantId", s.stripeGrantId()).put("amountCents", s.amountCents())
        .put("voided", s.voided()).put("expiresAt", s.expiresAt());
  }

  private static ReconcileRun.Side readSide(JsonObject j) {
    return j == null ? null : new ReconcileRun.Side(j.getString("stripeGrantId"), j.getLong("amountCents"),
        j.getBoolean("voided"), j.getLong("expiresAt"));
  }

  // ---- the vault, the audit, readiness

  public static JsonObject apiKey(ApiKey k) {
    if (k instanceof ApiKey.Stored s) {
      return new JsonObject().put("userId", s.userId()).put("type", s.type()).put("stored", true)
          .put("updatedAt", text(s.updatedAt()));
    }
    if (k instanceof ApiKey.Value v) {
      return new JsonObject().put("userId", v.userId()).put("type", v.type()).put("apiKey", v.apiKey())
          .put("updatedAt", text(v.updatedAt()));
    }
    ApiKey.Deleted d = (ApiKey.Deleted) k;
    return new JsonObject().put("userId", d.userId()).put("type", d.type()).put("deleted", true);
  }

  public static ApiKey readApiKey(JsonObject j) {
    if (j.containsKey("apiKey")) {
      return new ApiKey.Value(j.getString("userId"), j.getString("type"), j.getString("apiKey"), instant(j, "updatedAt"));
    }
    if (j.getBoolean("deleted", false)) {
      return new ApiKey.Deleted(j.getString("userId"), j.getString("type"));
    }
    return new ApiKey.Stored(j.getString("userId"), j.getString("type"), instant(j, "updatedAt"));
  }

  public static JsonObject audit(AuditReport r) {
    JsonArray problems = new JsonArray();
    r.problems().forEach(p -> problems.add(new JsonObject().put("check", p.check()).put("problem", p.problem())));
    // one org's audit names the org; a user's or the whole ledger's, the user or null
    return new JsonObject().put("ok", r.ok()).put("checkedAt", text(r.checkedAt()))
        .mergeIn(r.userId() == null ? new JsonObject().put("userId", null) : owner(r.userId()))
        .put("problems", problems);
  }

  public static AuditReport readAudit(JsonObject j) {
    List<AuditReport.Problem> problems = new ArrayList<>();
    j.getJsonArray("problems").forEach(o -> {
      JsonObject p = (JsonObject) o;
      problems.add(new AuditReport.Problem(p.getString("check"), p.getString("problem")));
    });
    String account = readOwner(j);
    return new AuditReport(j.getBoolean("ok"), instant(j, "checkedAt"), account, List.copyOf(problems));
  }

  public static JsonObject readiness(Readiness r) {
    return new JsonObject().put("status", "ready").put("changeSets", r.changeSets());
  }

  public static Readiness readReadiness(JsonObject j) {
    return new Readiness(j.getLong("changeSets"));
  }

  // ---- shared shapes

  private static <T> JsonObject page(String name, Page<T> page, Function<T, JsonObject> write) {
    JsonArray items = new JsonArray();
    page.items().forEach(i -> items.add(write.apply(i)));
    return new JsonObject().put(name, items).put("nextBefore", page.nextBefore());
  }

  private static <T> Page<T> readPage(String name, JsonObject j, Function<JsonObject, T> read) {
    List<T> items = new ArrayList<>();
    j.getJsonArray(name).forEach(o -> items.add(read.apply((JsonObject) o)));
    return new Page<>(List.copyOf(items), j.getLong("nextBefore"));
  }

  /** Every type a user can hold, and {@code organization} when the account holds such credits (see Balance). */
  private static JsonObject byType(Map<GrantType, Long> amounts) {
    JsonObject j = new JsonObject();
    for (GrantType t : GrantType.values()) {
      if (t != GrantType.ORGANIZATION || amounts.containsKey(t)) {
        j.put(t.wire(), amounts.getOrDefault(t, 0L));
      }
    }
    return j;
  }

  private static Map<GrantType, Long> readByType(JsonObject j) {
    Map<GrantType, Long> m = new EnumMap<>(GrantType.class);
    j.forEach(e -> m.put(GrantType.fromWire(e.getKey()), ((Number) e.getValue()).longValue()));
    return Collections.unmodifiableMap(m);
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }

  private static Instant instant(JsonObject j, String key) {
    String v = j.getString(key);
    return v == null ? null : Instant.parse(v);
  }
}
