package io.creditledger.service;

import io.creditledger.store.UserStore;
import io.creditledger.wire.Input;
import io.creditledger.error.LedgerException;
import io.creditledger.wire.Reply;
import io.creditledger.domain.User;
import io.creditledger.db.Transactions;
import io.creditledger.domain.CycleGrants;
import io.creditledger.domain.GrantType;
import io.creditledger.config.LedgerConfig;
import io.creditledger.money.CentsPerCredit;
import io.creditledger.time.Now;
import io.creditledger.time.ResetCycle;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Set;
import java.util.regex.Pattern;

/** Creates, updates and reads users. A new user's first cycle ends one reset cycle after its creation. */
public final class UserService {
  private static final Pattern EMAIL = Pattern.compile("[^@\\s]{1,64}@[^@\\s]{1,190}");
  private static final Pattern STRIPE_CUSTOMER = Pattern.compile("cus_[A-Za-z0-9]{1,250}");
  private static final int MAX_REFERRAL_LIMIT = 1_000_000;
  private static final Set<String> PUT_FIELDS = Set.of("userId", "email", "stripeCustomerId", "centsPerCredit",
      "referralLimit");

  private final Pool pool;
  private final LedgerConfig config;
  private final Transactions transactions;
  private final GrantWriter grants;
  private final ResetService resets;
  private final UserStore store = new UserStore();

  public UserService(Pool pool, LedgerConfig config, Transactions transactions, GrantWriter grants,
                     ResetService resets) {
    this.pool = pool;
    this.config = config;
    this.transactions = transactions;
    this.grants = grants;
    this.resets = resets;
  }



  public Future<Reply> put(JsonObject body) {
    Input in = Input.of(body, PUT_FIELDS);
    String userId = in.id("userId");
    String email = in.matching("email", EMAIL, "an email address");
    boolean clearStripeCustomer = in.has("stripeCustomerId") && body.getValue("stripeCustomerId") == null;
    String stripeCustomerId = in.optionalMatching("stripeCustomerId", STRIPE_CUSTOMER, "a Stripe customer id (cus_...)");
    BigDecimal centsPerCredit = centsPerCredit(in);
    Instant now = Now.of(config.clock());
    Instant firstReset = config.resetCycle().firstReset(now);
    boolean setReferralLimit = in.has("referralLimit");
    Integer referralLimit = setReferralLimit && body.getValue("referralLimit") != null
        ? (int) in.integer("referralLimit", 0, MAX_REFERRAL_LIMIT) : null;
    UserStore.Upsert upsert = new UserStore.Upsert(userId, email, stripeCustomerId, clearStripeCustomer, centsPerCredit,
        setReferralLimit, referralLimit);
    return transactions.run(new Transactions.Failure(null, userId, body), conn ->
        store.upsert(conn, upsert, config.defaultCentsPerCredit(), ResetCycle.anchorDay(now), firstReset, now)
            .compose(saved -> saved.created() ? firstFreeGrant(conn, saved.user(), now).map(saved) : Future.succeededFuture(saved)))
        .map(saved -> saved.created() ? Reply.created(saved.user().toJson()) : Reply.ok(saved.user().toJson()));
  }

  /** A new user starts with the first cycle's free grant, in the transaction that creates the user. */
  private Future<Void> firstFreeGrant(SqlConnection conn, User user, Instant now) {
    if (config.freeGrantCredits() == 0) {
      return Future.succeededFuture();
    }
    GrantWriter.Spec spec = new GrantWriter.Spec(CycleGrants.free(user.userId(), user.nextQuotaReset()),
        GrantType.FREE, config.freeGrantCredits(), null, null);
    return grants.write(conn, user, spec, now).mapEmpty();
  }

  /** The user as of now: a user whose cycle has ended is reset first, so the answer shows the current cycle. */
  public Future<Reply> get(JsonObject body) {
    String userId = Input.of(body, Set.of("userId")).id("userId");
    Instant now = Now.of(config.clock());
    return store.find(pool, userId).compose(user -> {
      if (user == null) {
        throw LedgerException.userNotFound(userId);
      }
      return ResetService.due(user, now)
          ? resets.applyDue(userId, now).compose(v -> store.find(pool, userId))
          : Future.succeededFuture(user);
    }).map(user -> Reply.ok(user.toJson()));
  }

  private static BigDecimal centsPerCredit(Input in) {
    BigDecimal v = in.optionalDecimal("centsPerCredit");
    if (v == null) {
      return null;
    }
    try {
      return CentsPerCredit.validate(v);
    } catch (IllegalArgumentException e) {
      throw Input.invalid("centsPerCredit", e.getMessage());
    }
  }
}
