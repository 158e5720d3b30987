package io.creditledger.api;

import io.creditledger.domain.Balance;
import io.creditledger.domain.Consumption;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.User;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Errors;
import io.creditledger.wire.Reply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/**
 * A typed client of the ledger's event-bus addresses for verticles co-deployed with the ledger. Failures
 * arrive as {@link LedgerException} with the same status and code the HTTP API would show.
 */
public final class LedgerClient {
  private static final long TIMEOUT_MS = 30_000;

  private final EventBus bus;

  public LedgerClient(Vertx vertx) {
    this.bus = vertx.eventBus();
  }

  /** Sends {@code body} to {@code address}; the raw form every typed method goes through. */
  public Future<Reply> request(String address, JsonObject body) {
    return request(address, body, TIMEOUT_MS);
  }

  /** Like {@link #request(String, JsonObject)}, waiting up to {@code timeoutMs} for the answer. */
  public Future<Reply> request(String address, JsonObject body, long timeoutMs) {
    return bus.<JsonObject>request(address, body, new DeliveryOptions().setSendTimeout(timeoutMs))
        .transform(ar -> {
          if (ar.succeeded()) {
            String status = ar.result().headers().get(Reply.STATUS_HEADER);
            return Future.succeededFuture(new Reply(status == null ? 200 : Integer.parseInt(status),
                ar.result().body(), "true".equals(ar.result().headers().get(Reply.REPLAYED_HEADER))));
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
    return request(Addresses.USER_PUT, body)
        .map(r -> new UserSaved(User.fromJson(r.body()), r.status() == 201));
  }

  public Future<User> getUser(String userId) {
    return request(Addresses.USER_GET, new JsonObject().put("userId", userId)).map(r -> User.fromJson(r.body()));
  }

  /**
   * Grants credits. {@code description} and {@code expiresAt} may be null (defaults: a description of the grant;
   * free and referral grants expire at the user's next reset, the others never).
   */
  public Future<GrantView> grant(String userId, String operationId, String type, long amount, String description,
                                 Instant expiresAt) {
    JsonObject body = new JsonObject().put("userId", userId).put("operationId", operationId).put("type", type)
        .put("amount", amount);
    if (description != null) {
      body.put("description", description);
    }
    if (expiresAt != null) {
      body.put("expiresAt", expiresAt.toString());
    }
    return request(Addresses.GRANT_CREATE, body).map(r -> GrantView.fromJson(r.body()));
  }

  public Future<Consumption> consume(String userId, String operationId, long amount) {
    return request(Addresses.CONSUME, new JsonObject().put("userId", userId).put("operationId", operationId)
        .put("amount", amount)).map(r -> Consumption.fromJson(r.body()));
  }

  public Future<Balance> balance(String userId) {
    return request(Addresses.BALANCE, new JsonObject().put("userId", userId)).map(r -> Balance.fromJson(r.body()));
  }

  /** The user's grants, newest first; {@code before} (a grantId) pages back, null for the first page. */
  public Future<List<GrantView>> grants(String userId, int limit, Long before) {
    return request(Addresses.GRANT_LIST, page(userId, limit, before)).map(r -> r.body().getJsonArray("grants")
        .stream().map(o -> GrantView.fromJson((JsonObject) o)).toList());
  }

  /** The user's journal entries, newest first; {@code before} (an entryId) pages back, null for the first page. */
  public Future<List<JsonObject>> journal(String userId, int limit, Long before) {
    return request(Addresses.JOURNAL, page(userId, limit, before)).map(r -> r.body().getJsonArray("entries")
        .stream().map(o -> (JsonObject) o).toList());
  }

  private static JsonObject page(String userId, int limit, Long before) {
    JsonObject body = new JsonObject().put("userId", userId).put("limit", limit);
    if (before != null) {
      body.put("before", before);
    }
    return body;
  }

  /** Revokes what is left of the grant created by {@code operationId}; revoking twice changes nothing. */
  public Future<GrantView> revoke(String operationId, String reason) {
    return request(Addresses.GRANT_REVOKE, new JsonObject().put("operationId", operationId).put("reason", reason))
        .map(r -> GrantView.fromJson(r.body()));
  }

  /** Credits both users; the reply holds {@code referrerGrant} and {@code referredGrant}. */
  public Future<JsonObject> refer(String operationId, String referrerId, String referredId, long credits) {
    return request(Addresses.REFERRAL_CREATE, new JsonObject().put("operationId", operationId)
        .put("referrerId", referrerId).put("referredId", referredId).put("credits", credits)).map(Reply::body);
  }

  /**
   * Resets every due user now and answers how many were reset. It waits until no user is due, so give it time
   * in proportion to the backlog.
   */
  public Future<Integer> runDueResets(long timeoutMs) {
    return request(Addresses.RESETS_RUN, new JsonObject(), timeoutMs).map(r -> r.body().getInteger("reset"));
  }

  /** A saved user and whether this call created it. */
  public record UserSaved(User user, boolean created) {
  }
}
