package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.db.Transactions;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.User;
import io.creditledger.store.Stores;
import io.creditledger.store.UserStore;
import io.creditledger.time.Now;
import io.creditledger.time.ResetCycle;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

import java.time.Instant;

/** Creates, updates and reads users. A new user's first cycle ends one reset cycle after its creation. */
public final class UserService {

  private final Pool pool;
  private final LedgerConfig config;
  private final Transactions transactions;
  private final GrantWriter grants;
  private final ResetService resets;
  private final UserStore store;

  public UserService(Pool pool, LedgerConfig config, Transactions transactions, Stores stores, GrantWriter grants,
                     ResetService resets) {
    this.pool = pool;
    this.store = stores.users();
    this.config = config;
    this.transactions = transactions;
    this.grants = grants;
    this.resets = resets;
  }



  public Future<Answer<User>> put(Command.PutUser c) {
    Instant now = Now.of(config.clock());
    Instant firstReset = config.resetCycle().firstReset(now);
    UserStore.Upsert upsert = new UserStore.Upsert(c.userId(), c.email(), c.stripeCustomerId(), c.clearStripeCustomer(),
        c.centsPerCredit(), c.setReferralLimit(), c.referralLimit());
    return transactions.run(Transactions.Failure.of(null, c.userId(), c), conn ->
        store.upsert(conn, upsert, config.defaultCentsPerCredit(), ResetCycle.anchorDay(now), firstReset, now)
            .compose(saved -> saved.created() ? grants.firstFreeGrant(conn, saved.user(), now).map(saved)
                : Future.succeededFuture(saved)))
        .map(saved -> saved.created() ? Answer.created(saved.user()) : Answer.ok(saved.user()));
  }

  /** The user as of now: a user whose cycle has ended is reset first, so the answer shows the current cycle. */
  public Future<Answer<User>> get(Command.GetUser c) {
    Instant now = Now.of(config.clock());
    return resets.currentUser(c.userId(), now).map(Answer::ok);
  }
}
