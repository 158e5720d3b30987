package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.GrantType;
import io.creditledger.domain.OperationKind;
import io.creditledger.domain.Referral;
import io.creditledger.domain.User;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.store.LedgerStore;
import io.creditledger.store.Stores;
import io.creditledger.store.UserStore;
import io.creditledger.wire.Json;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;

/**
 * A referral credits both users in one transaction: {@code <operationId>-referrer} to the referrer and
 * {@code <operationId>-referred} to the referred user, both referral grants expiring at each user's next reset.
 * A user can be referred once, and not by someone they referred themselves; a referrer is credited for at most
 * their own {@code referralLimit} (default {@code REFERRAL_LIMIT}) referrals.
 */
public final class ReferralService {

  private final LedgerConfig config;
  private final LedgerStore store;
  private final GrantWriter grants;
  private final ResetService resets;
  private final UserStore users;

  public ReferralService(LedgerConfig config, Stores stores, GrantWriter grants,
                         ResetService resets) {
    this.config = config;
    this.store = stores.ledger();
    this.users = stores.users();
    this.grants = grants;
    this.resets = resets;
  }

  /** A referral, inside a write batch's transaction (which holds both users' locks). */
  public Future<Answer<Referral>> refer(SqlConnection conn, Command.Refer c, Instant now) {
    String request = new JsonObject().put("referrerId", c.referrerId()).put("referredId", c.referredId())
        .put("credits", c.credits()).encode();
    return lockInOrder(conn, c.referrerId(), c.referredId()).compose(pair ->
        store.findOperation(conn, c.operationId()).compose(stored -> {
          if (stored.isPresent()) {
            return Future.succeededFuture(Idempotency.replayOrConflict(stored.get(), c.operationId(),
                OperationKind.REFERRAL, request, Json::readReferral));
          }
          return resetsFirst(conn, pair, now)
              .compose(current -> referLocked(conn, c.operationId(), current, c.credits(), request, now));
        }));
  }

  /** The two users of a referral, locked. */
  private record Pair(User referrer, User referred) {
  }

  /** Locks both users, always in user-id order so two referrals between the same users cannot deadlock. */
  private Future<Pair> lockInOrder(SqlConnection conn, String referrerId, String referredId) {
    boolean referrerFirst = referrerId.compareTo(referredId) < 0;
    String first = referrerFirst ? referrerId : referredId;
    String second = referrerFirst ? referredId : referrerId;
    return users.lock(conn, first).compose(foundA -> users.lock(conn, second).map(foundB -> {
      User a = foundA.orElseThrow(() -> LedgerException.userNotFound(first));
      User b = foundB.orElseThrow(() -> LedgerException.userNotFound(second));
      return referrerFirst ? new Pair(a, b) : new Pair(b, a);
    }));
  }

  /** Both users' due resets, before either is credited. */
  private Future<Pair> resetsFirst(SqlConnection conn, Pair pair, Instant now) {
    return resets.resetIfDue(conn, pair.referrer(), now).compose(referrer ->
        resets.resetIfDue(conn, pair.referred(), now).map(referred -> new Pair(referrer, referred)));
  }

  private Future<Answer<Referral>> referLocked(SqlConnection conn, String operationId, Pair pair, long credits, String request,
                                    Instant now) {
    User referrer = pair.referrer();
    User referred = pair.referred();
    int limit = referrer.referralLimit() != null ? referrer.referralLimit() : config.referralLimit();
    return store.referralCounts(conn, referrer.userId(), referred.userId()).compose(counts -> {
      if (counts.reverse()) {
        throw new LedgerException(ErrorCode.REFERRAL_CYCLE, "User \"" + referred.userId() + "\" referred \""
            + referrer.userId() + "\"; a referral back is not allowed");
      }
      if (counts.alreadyReferred()) {
        throw new LedgerException(ErrorCode.ALREADY_REFERRED, "User \"" + referred.userId() + "\" was already referred");
      }
      if (counts.given() >= limit) {
        throw new LedgerException(ErrorCode.REFERRAL_LIMIT_REACHED, "User \"" + referrer.userId()
            + "\" has reached the limit of " + limit + " referrals");
      }
      GrantWriter.Spec toReferrer = new GrantWriter.Spec(operationId + "-referrer", GrantType.REFERRAL, credits,
          "Referral credits for referring " + referred.userId(), null);
      GrantWriter.Spec toReferred = new GrantWriter.Spec(operationId + "-referred", GrantType.REFERRAL, credits,
          "Referral credits for joining through " + referrer.userId(), null);
      return ensureUnused(conn, toReferrer.operationId())
          .compose(v -> ensureUnused(conn, toReferred.operationId()))
          .compose(v -> store.insertReferral(conn, operationId, referrer.userId(), referred.userId(), credits, now))
          .compose(v -> grants.write(conn, referrer, toReferrer, now))
          .compose(a -> grants.write(conn, referred, toReferred, now).compose(b -> {
            Referral referral = new Referral(operationId, referrer.userId(), referred.userId(), credits, a.answer(),
                b.answer());
            return store.insertOperation(conn, operationId, referrer.userId(), OperationKind.REFERRAL, request, 201,
                    Json.referral(referral), now)
                .map(done -> Answer.created(referral));
          }));
    });
  }

  private Future<Void> ensureUnused(SqlConnection conn, String operationId) {
    return store.findOperation(conn, operationId).map(stored -> {
      if (stored.isPresent()) {
        throw Idempotency.conflict(operationId);
      }
      return null;
    });
  }
}
