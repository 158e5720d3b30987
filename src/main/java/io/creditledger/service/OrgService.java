package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.db.Transactions;
import io.creditledger.domain.Accounts;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Command;
import io.creditledger.domain.Org;
import io.creditledger.domain.OrgMember;
import io.creditledger.domain.OrgUsage;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.store.OrgStore;
import io.creditledger.store.Stores;
import io.creditledger.store.UserStore;
import io.creditledger.time.Now;
import io.creditledger.time.ResetCycle;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Organizations and their members. An org's account (its cycle, price per credit, Stripe customer and usage) is a
 * ledger account like a user's, keyed {@code org/<orgId>}; creating an org grants only ORG_FREE_GRANT_CREDITS
 * (none by default). The balance-changing operations on an org's pool go through the write batch like a user's.
 */
public final class OrgService {
  /** The usage report's range when none is given: the last 30 days. */
  static final Duration DEFAULT_USAGE_RANGE = Duration.ofDays(30);

  private final Pool pool;
  private final LedgerConfig config;
  private final Transactions transactions;
  private final UserStore users;
  private final OrgStore orgs;
  private final ResetService resets;
  private final GrantWriter grants;

  public OrgService(Pool pool, LedgerConfig config, Transactions transactions, Stores stores, ResetService resets,
                    GrantWriter grants) {
    this.grants = grants;
    this.pool = pool;
    this.config = config;
    this.transactions = transactions;
    this.users = stores.users();
    this.orgs = stores.orgs();
    this.resets = resets;
  }

  /** Creates the org (a name is then required) with its account, or updates the fields given. */
  public Future<Answer<Org>> put(Command.PutOrg c) {
    Instant now = Now.of(config.clock());
    String account = Accounts.ofOrg(c.orgId());
    UserStore.Upsert upsert = new UserStore.Upsert(account, null, c.stripeCustomerId(), c.clearStripeCustomer(),
        c.centsPerCredit(), false, null);
    return transactions.run(Transactions.Failure.of(null, account, c), conn -> orgs.find(conn, c.orgId())
            .compose(existing -> {
              if (existing.isEmpty() && c.name() == null) {
                throw new LedgerException(ErrorCode.MISSING_FIELD, "\"name\" is required to create an org");
              }
              return users.upsert(conn, upsert, config.defaultCentsPerCredit(), ResetCycle.anchorDay(now),
                  config.resetCycle().firstReset(now), now);
            })
            .compose(saved -> orgs.upsert(conn, new OrgStore.Upsert(c.orgId(), c.name(), c.setCreditLimit(),
                    c.creditLimit()), now)
                .compose(created -> created ? grants.firstFreeGrant(conn, saved.user(), now).map(true)
                    : Future.succeededFuture(false)))
            .compose(created -> found(conn, c.orgId()).map(org -> created ? Answer.created(org) : Answer.ok(org))));
  }

  /** The org as of now: an org whose cycle has ended is reset first, so the answer shows the current cycle. */
  public Future<Answer<Org>> get(Command.GetOrg c) {
    Instant now = Now.of(config.clock());
    return resets.currentUser(Accounts.ofOrg(c.orgId()), now).compose(account -> found(pool, c.orgId()))
        .map(Answer::ok);
  }

  /** Adds a user to the org with a role, or changes the role (201 when added). */
  public Future<Answer<OrgMember>> putMember(Command.PutOrgMember c) {
    Instant now = Now.of(config.clock());
    return transactions.run(Transactions.Failure.of(null, Accounts.ofOrg(c.orgId()), c), conn ->
        found(conn, c.orgId())
            .compose(org -> users.find(conn, c.userId()))
            .compose(user -> {
              if (user.isEmpty()) {
                throw LedgerException.userNotFound(c.userId());
              }
              return orgs.putMember(conn, new OrgMember(c.orgId(), c.userId(), c.role(), now));
            })
            .map(saved -> saved.created() ? Answer.created(saved.member()) : Answer.ok(saved.member())));
  }

  /** Removes the member: from then on the org's pool refuses them (403 not_a_member). */
  public Future<Answer<OrgMember>> deleteMember(Command.DeleteOrgMember c) {
    return transactions.run(Transactions.Failure.of(null, Accounts.ofOrg(c.orgId()), c), conn ->
        found(conn, c.orgId())
            .compose(org -> orgs.deleteMember(conn, c.orgId(), c.userId()))
            .map(removed -> Answer.ok(removed.orElseThrow(() -> new LedgerException(ErrorCode.MEMBER_NOT_FOUND,
                "\"" + c.userId() + "\" is not a member of org \"" + c.orgId() + "\"")))));
  }

  public Future<Answer<List<OrgMember>>> members(Command.ListOrgMembers c) {
    return found(pool, c.orgId()).compose(org -> orgs.members(pool, c.orgId())).map(Answer::ok);
  }

  /** Credits each member consumed from the pool in [from, to); by default the last 30 days. */
  public Future<Answer<OrgUsage>> usage(Command.GetOrgUsage c) {
    Instant now = Now.of(config.clock());
    // by default up to and including now (the database keeps microseconds)
    Instant to = c.to() != null ? c.to() : now.plusNanos(1_000);
    Instant from = c.from() != null ? c.from() : to.minus(DEFAULT_USAGE_RANGE);
    if (!from.isBefore(to)) {
      return Future.failedFuture(new LedgerException(ErrorCode.INVALID_FIELD, "\"from\" must be before \"to\""));
    }
    return found(pool, c.orgId()).compose(org -> orgs.usage(pool, c.orgId(), from, to)).map(Answer::ok);
  }

  private Future<Org> found(SqlClient client, String orgId) {
    return orgs.find(client, orgId).map(org -> org.orElseThrow(() -> LedgerException.orgNotFound(orgId)));
  }
}
