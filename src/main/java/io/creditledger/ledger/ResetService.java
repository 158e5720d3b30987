package io.creditledger.ledger;

import io.creditledger.api.Input;
import io.creditledger.api.LedgerException;
import io.creditledger.api.Reply;
import io.creditledger.api.User;
import io.creditledger.config.LedgerConfig;
import io.creditledger.db.Transactions;
import io.creditledger.outbox.OutboxStore;
import io.creditledger.time.Now;
import io.creditledger.users.UserStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A user's monthly reset ({@code calculateAndApplyRollover}, then the new cycle's grants), in one transaction
 * holding the user's lock, so it never interleaves with the user's consumptions:
 * <ol>
 *   <li>credits left on expired grants are journalled as {@code expiry} (debt stays: it is never forgiven);</li>
 *   <li>the remaining balances of purchase and rollover grants move ({@code rollover_out}) into one new
 *       never-expiring rollover grant ({@code rollover_in}, operationId {@code rollover/<user>/<boundary>}); the
 *       emptied grants close, and their Stripe mirrors are voided;</li>
 *   <li>the new free grant and, for a user who has made referrals, the referral grant, both expiring at the next
 *       reset; like every grant they settle outstanding debt first;</li>
 *   <li>usage back to zero and {@code next_quota_reset} moved to the first boundary after now, so a user whose
 *       resets were missed gets one reset, not one per missed cycle.</li>
 * </ol>
 * A user who is not due is left alone, which makes a rerun of a cycle a no-op.
 */
public final class ResetService {
  static final String KIND = "reset";

  private final LedgerConfig config;
  private final Transactions transactions;
  private final LedgerStore store;
  private final GrantWriter grants;
  private final OutboxStore outbox;
  private final UserStore users = new UserStore();

  public ResetService(LedgerConfig config, Transactions transactions, LedgerStore store, GrantWriter grants,
                      OutboxStore outbox) {
    this.config = config;
    this.transactions = transactions;
    this.store = store;
    this.grants = grants;
    this.outbox = outbox;
  }

  /** {@code {userId}} → {@code {userId, reset, ...}}; {@code reset} is false when the user was not due. */
  public Future<Reply> apply(JsonObject body) {
    String userId = Input.of(body, Set.of("userId")).id("userId");
    Instant now = Now.of(config.clock());
    return transactions.run(new Transactions.Failure("reset/" + userId, userId, body), conn ->
        users.lock(conn, userId).compose(user -> {
          if (user == null) {
            throw LedgerException.userNotFound(userId);
          }
          if (user.nextQuotaReset().isAfter(now)) {
            return Future.succeededFuture(Reply.ok(new JsonObject().put("userId", userId).put("reset", false)
                .put("nextQuotaReset", user.nextQuotaReset().toString())));
          }
          return reset(conn, user, now).map(Reply::ok);
        }));
  }

  private Future<JsonObject> reset(SqlConnection conn, User user, Instant now) {
    String userId = user.userId();
    Instant boundary = user.nextQuotaReset();
    Instant next = config.resetCycle().firstBoundaryAfter(boundary, user.billingAnchorDay(), now);
    String operationId = CycleGrants.reset(userId, boundary);
    String rolloverId = CycleGrants.rollover(userId, boundary);
    JsonObject summary = new JsonObject().put("userId", userId).put("reset", true)
        .put("cycleEnded", boundary.toString()).put("nextQuotaReset", next.toString());
    List<String> granted = new ArrayList<>();
    return store.liveGrants(conn, userId, now).compose(live -> {
      JournalBatch batch = new JournalBatch();
      Expiry.sweep(live, batch, now);
      long expired = -batch.entries().stream().mapToLong(JournalBatch.Entry::delta).sum();
      Rollover.Plan rollover = Rollover.plan(live, now);
      for (Grant source : rollover.sources()) {
        batch.add(source, -source.balance(), "rollover_out", operationId, "Rolled over into " + rolloverId);
      }
      summary.put("expired", expired).put("rolledOver", rollover.total());
      List<Future<Void>> writes = new ArrayList<>();
      writes.add(store.apply(conn, userId, batch, now));
      writes.add(store.closeRolledOver(conn, rollover.sources(), "rolled over into " + rolloverId, now));
      for (Grant source : rollover.sources()) {
        if (source.mirrored()) {
          writes.add(outbox.enqueueVoid(conn, source, now));
        }
      }
      return Future.all(writes);
    }).compose(done -> {
      long total = summary.getLong("rolledOver");
      if (total == 0) {
        return Future.succeededFuture();
      }
      GrantWriter.Spec spec = new GrantWriter.Spec(rolloverId, GrantType.ROLLOVER, total,
          "Rolled over " + total + " credits from the cycle ending " + boundary, null);
      return grants.write(conn, user, spec, "rollover_in", now).map(w -> granted.add(rolloverId));
    }).compose(done -> config.freeGrantCredits() == 0 ? Future.succeededFuture()
        : grants.write(conn, user, new GrantWriter.Spec(CycleGrants.free(userId, next), GrantType.FREE,
            config.freeGrantCredits(), null, next), now).map(w -> granted.add(w.grant().operationId()))
    ).compose(done -> store.referralsMade(conn, userId)).compose(referrals -> {
      long credits = referrals * config.resets().referralCreditsPerReferral();
      if (credits == 0) {
        return Future.succeededFuture();
      }
      String referralId = CycleGrants.referral(userId, next);
      return grants.write(conn, user, new GrantWriter.Spec(referralId, GrantType.REFERRAL, credits,
          "Referral credits for " + referrals + " referrals", next), now).map(w -> granted.add(referralId));
    }).compose(done -> {
      summary.put("grants", new JsonArray(granted));
      return Future.all(
          store.finishReset(conn, userId, next, now),
          store.insertOperation(conn, operationId, userId, KIND,
              new JsonObject().put("userId", userId).put("boundary", boundary.toString()).encode(), 200, summary, now));
    }).map(summary);
  }
}
