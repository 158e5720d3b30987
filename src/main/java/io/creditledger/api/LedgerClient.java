package io.creditledger.api;

import io.creditledger.domain.Balance;
import io.creditledger.domain.Capture;
import io.creditledger.domain.Command;
import io.creditledger.domain.Consumption;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.Hold;
import io.creditledger.domain.HoldAnswer;
import io.creditledger.domain.JournalEntry;
import io.creditledger.domain.Org;
import io.creditledger.domain.OrgMember;
import io.creditledger.domain.OrgUsage;
import io.creditledger.domain.Referral;
import io.creditledger.domain.ResetOutcome;
import io.creditledger.domain.ResetRun;
import io.creditledger.domain.User;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Errors;
import io.creditledger.wire.Json;
import io.creditledger.wire.LocalCodec;
import io.creditledger.wire.Reply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * A typed client of the ledger's event-bus addresses for verticles co-deployed with the ledger. Its requests are
 * JSON, read and checked by the address exactly as an HTTP body is (a caller's mistake is a 400, not a broken
 * ledger); answers are read with the code that wrote them. Failures arrive as {@link LedgerException} with the same status and code the HTTP API would show.
 */
public final class LedgerClient implements CommandSender {
  private static final long TIMEOUT_MS = 30_000;

  private final EventBus bus;

  public LedgerClient(Vertx vertx) {
    this.bus = vertx.eventBus();
    LocalCodec.register(bus);
  }

  /**
   * Calls {@code handler} with each event the ledger commits from now on, in the order this process dispatched
   * them (published at {@link Addresses#EVENTS}). Unregister the returned consumer to stop. The bus carries the
   * events this process's relay dispatches; with several instances, or to miss nothing across restarts, use a
   * webhook endpoint.
   */
  public MessageConsumer<JsonObject> subscribe(Consumer<LedgerEvent> handler) {
    return bus.consumer(Addresses.EVENTS, message -> handler.accept(LedgerEvent.of(message.body())));
  }

  /** Sends a JSON request to {@code address}, as any co-deployed verticle may; answers the JSON reply. */
  public Future<Reply> request(String address, JsonObject body) {
    return request(address, body, TIMEOUT_MS);
  }

  /** Like {@link #request(String, JsonObject)}, waiting up to {@code timeoutMs} for the answer. */
  public Future<Reply> request(String address, JsonObject body, long timeoutMs) {
    return exchange(address, body, new DeliveryOptions().setSendTimeout(timeoutMs));
  }

  /** Sends {@code command} to {@code address} by reference; answers the JSON reply. */
  @Override
  public Future<Reply> send(String address, Command command, long timeoutMs) {
    return exchange(address, command, new DeliveryOptions().setSendTimeout(timeoutMs).setCodecName(LocalCodec.NAME));
  }

  private Future<Reply> exchange(String address, Object body, DeliveryOptions options) {
    return bus.<JsonObject>request(address, body, options).transform(ar -> {
      if (ar.succeeded()) {
        String status = ar.result().headers().get(Reply.STATUS_HEADER);
        return Future.succeededFuture(new Reply(status == null ? 200 : Integer.parseInt(status), ar.result().body(),
            "true".equals(ar.result().headers().get(Reply.REPLAYED_HEADER))));
      }
      return Future.failedFuture(translate(ar.cause()));
    });
  }

  private static LedgerException translate(Throwable cause) {
    if (cause instanceof ReplyException re) {
      switch (re.failureType()) {
        case RECIPIENT_FAILURE:
          return Errors.fromReply(re.getMessage());
        case TIMEOUT:
          return new LedgerException(ErrorCode.LEDGER_TIMEOUT, "The ledger did not answer in time");
        case NO_HANDLERS:
          return new LedgerException(ErrorCode.LEDGER_UNAVAILABLE, "The ledger is not running");
        default:
          break;
      }
    }
    return new LedgerException(ErrorCode.INTERNAL_ERROR, String.valueOf(cause.getMessage()));
  }

  /** Whether the database answers and the schema is migrated. */
  public Future<JsonObject> ready() {
    return request(Addresses.READY, new JsonObject()).map(Reply::body);
  }

  /**
   * Creates the user or updates it. {@code stripeCustomerId} and {@code centsPerCredit} may be null: on
   * creation they take their defaults, on update they keep their current values.
   */
  public Future<UserSaved> putUser(String userId, String email, String stripeCustomerId, BigDecimal centsPerCredit) {
    JsonObject body = new JsonObject().put("userId", userId).put("email", email);
    if (stripeCustomerId != null) {
      body.put("stripeCustomerId", stripeCustomerId);
    }
    if (centsPerCredit != null) {
      body.put("centsPerCredit", centsPerCredit.toPlainString());
    }
    return request(Addresses.USER_PUT, body).map(r -> new UserSaved(Json.readUser(r.body()), r.status() == 201));
  }

  public Future<User> getUser(String userId) {
    return request(Addresses.USER_GET, new JsonObject().put("userId", userId)).map(r -> Json.readUser(r.body()));
  }

  /**
   * Grants credits. {@code description} and {@code expiresAt} may be null (defaults: a description of the grant;
   * free and referral grants expire at the user's next reset, the others never).
   */
  public Future<GrantView> grant(String userId, String operationId, GrantType type, long amount, String description,
                                 Instant expiresAt) {
    JsonObject body = new JsonObject().put("userId", userId).put("operationId", operationId)
        .put("type", type == null ? null : type.wire()).put("amount", amount);
    if (description != null) {
      body.put("description", description);
    }
    if (expiresAt != null) {
      body.put("expiresAt", expiresAt.toString());
    }
    return request(Addresses.GRANT_CREATE, body).map(r -> Json.readCreated(r.body()).grant());
  }

  public Future<Consumption> consume(String userId, String operationId, long amount) {
    return request(Addresses.CONSUME, new JsonObject().put("userId", userId).put("operationId", operationId)
        .put("amount", amount)).map(r -> Json.readConsumption(r.body()));
  }

  /**
   * Reserves {@code amount} credits for {@code ttl} (null: {@code HOLD_DEFAULT_TTL}); the hold's id is
   * {@code operationId}. Refused (402) when the user's available credits do not cover it.
   */
  public Future<HoldAnswer> hold(String userId, String operationId, long amount, Duration ttl) {
    JsonObject body = new JsonObject().put("userId", userId).put("operationId", operationId).put("amount", amount);
    if (ttl != null) {
      body.put("ttl", ttl.toString());
    }
    return request(Addresses.HOLD_PLACE, body).map(r -> Json.readHoldAnswer(r.body()));
  }

  /** Consumes {@code amount} against the hold and lets the rest of it go; answers like {@link #consume}. */
  public Future<Capture> capture(String userId, String holdId, String operationId, long amount) {
    return request(Addresses.HOLD_CAPTURE, new JsonObject().put("userId", userId).put("holdId", holdId)
        .put("operationId", operationId).put("amount", amount)).map(r -> Json.readCapture(r.body()));
  }

  /** Lets the hold's credits go; releasing a released or expired hold answers it as it is. */
  public Future<HoldAnswer> release(String userId, String holdId) {
    return request(Addresses.HOLD_RELEASE, new JsonObject().put("userId", userId).put("holdId", holdId))
        .map(r -> Json.readHoldAnswer(r.body()));
  }

  public Future<Hold> getHold(String userId, String holdId) {
    return request(Addresses.HOLD_GET, new JsonObject().put("userId", userId).put("holdId", holdId))
        .map(r -> Json.readHold(r.body()));
  }

  /** The user's holds, newest first; {@code state} null for every state. */
  public Future<List<Hold>> holds(String userId, Hold.State state, int limit) {
    JsonObject body = new JsonObject().put("userId", userId).put("limit", limit);
    if (state != null) {
      body.put("state", state.wire());
    }
    return request(Addresses.HOLD_LIST, body).map(r -> Json.readHolds(r.body()));
  }

  // ---- organizations: an org's pool takes the same addresses, named by orgId

  /** Creates the org ({@code name} required then) or updates it; {@code creditLimit} null: no limit. */
  public Future<Org> putOrg(String orgId, String name, String stripeCustomerId, Long creditLimit) {
    JsonObject body = new JsonObject().put("orgId", orgId).put("name", name).put("creditLimit", creditLimit);
    if (stripeCustomerId != null) {
      body.put("stripeCustomerId", stripeCustomerId);
    }
    return request(Addresses.ORG_PUT, body).map(r -> Json.readOrg(r.body()));
  }

  public Future<Org> getOrg(String orgId) {
    return request(Addresses.ORG_GET, new JsonObject().put("orgId", orgId)).map(r -> Json.readOrg(r.body()));
  }

  public Future<OrgMember> putOrgMember(String orgId, String userId, OrgMember.Role role) {
    return request(Addresses.ORG_MEMBER_PUT, new JsonObject().put("orgId", orgId).put("userId", userId)
        .put("role", role.wire())).map(r -> Json.readOrgMember(r.body()));
  }

  public Future<OrgMember> deleteOrgMember(String orgId, String userId) {
    return request(Addresses.ORG_MEMBER_DELETE, new JsonObject().put("orgId", orgId).put("userId", userId))
        .map(r -> Json.readOrgMember(r.body()));
  }

  public Future<List<OrgMember>> orgMembers(String orgId) {
    return request(Addresses.ORG_MEMBER_LIST, new JsonObject().put("orgId", orgId))
        .map(r -> Json.readOrgMembers(r.body()));
  }

  /** {@code memberId} spends {@code amount} from the org's pool. */
  public Future<Consumption> consumeFromOrg(String orgId, String memberId, String operationId, long amount) {
    return request(Addresses.CONSUME, new JsonObject().put("orgId", orgId).put("userId", memberId)
        .put("operationId", operationId).put("amount", amount)).map(r -> Json.readConsumption(r.body()));
  }

  public Future<Balance> orgBalance(String orgId) {
    return request(Addresses.BALANCE, new JsonObject().put("orgId", orgId)).map(r -> Json.readBalance(r.body()));
  }

  /** What each member consumed in [from, to); null bounds: the last 30 days up to now. */
  public Future<OrgUsage> orgUsage(String orgId, Instant from, Instant to) {
    JsonObject body = new JsonObject().put("orgId", orgId);
    if (from != null) {
      body.put("from", from.toString());
    }
    if (to != null) {
      body.put("to", to.toString());
    }
    return request(Addresses.ORG_USAGE, body).map(r -> Json.readOrgUsage(r.body()));
  }

  public Future<Balance> balance(String userId) {
    return request(Addresses.BALANCE, new JsonObject().put("userId", userId)).map(r -> Json.readBalance(r.body()));
  }

  /** The user's grants, newest first; {@code before} (a grantId) pages back, null for the first page. */
  public Future<List<GrantView>> grants(String userId, int limit, Long before) {
    return request(Addresses.GRANT_LIST, page(userId, limit, before)).map(r -> Json.readGrants(r.body()).items());
  }

  /** The user's journal entries, newest first; {@code before} (an entryId) pages back, null for the first page. */
  public Future<List<JournalEntry>> journal(String userId, int limit, Long before) {
    return request(Addresses.JOURNAL, page(userId, limit, before)).map(r -> Json.readEntries(r.body()).items());
  }

  private static JsonObject page(String userId, int limit, Long before) {
    JsonObject body = new JsonObject().put("userId", userId).put("limit", limit);
    return before == null ? body : body.put("before", before);
  }

  /** Revokes what is left of the grant created by {@code operationId}; revoking twice changes nothing. */
  public Future<GrantView.Revoked> revoke(String operationId, String reason) {
    JsonObject body = new JsonObject().put("operationId", operationId);
    if (reason != null) {
      body.put("reason", reason);
    }
    return request(Addresses.GRANT_REVOKE, body).map(r -> Json.readRevoked(r.body()));
  }

  /** Credits both users with a referral grant each. */
  public Future<Referral> refer(String operationId, String referrerId, String referredId, long credits) {
    return request(Addresses.REFERRAL_CREATE, new JsonObject().put("operationId", operationId)
        .put("referrerId", referrerId).put("referredId", referredId).put("credits", credits))
        .map(r -> Json.readReferral(r.body()));
  }

  /** Applies the user's reset if it is due. */
  public Future<ResetOutcome> applyReset(String userId) {
    return request(Addresses.RESET_APPLY, new JsonObject().put("userId", userId))
        .map(r -> Json.readResetOutcome(r.body()));
  }

  /**
   * Resets every due user now and answers what the run did. It waits until no user is due, so give it time in
   * proportion to the backlog.
   */
  public Future<ResetRun> runResets(long timeoutMs) {
    return request(Addresses.RESETS_RUN, new JsonObject(), timeoutMs).map(r -> Json.readResetRun(r.body()));
  }

  /** Like {@link #runResets(long)}, answering how many users were reset. */
  public Future<Integer> runDueResets(long timeoutMs) {
    return runResets(timeoutMs).map(ResetRun::reset);
  }

  /** A saved user and whether this call created it. */
  public record UserSaved(User user, boolean created) {
  }
}
