package io.creditledger.service;

import io.creditledger.config.LedgerConfig;
import io.creditledger.db.Transactions;
import io.creditledger.domain.Accounts;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Balance;
import io.creditledger.domain.CloseReason;
import io.creditledger.domain.Command;
import io.creditledger.domain.Grant;
import io.creditledger.domain.GrantView;
import io.creditledger.domain.JournalEntry;
import io.creditledger.domain.Page;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.store.LedgerStore;
import io.creditledger.store.OutboxStore;
import io.creditledger.store.Stores;
import io.creditledger.store.UserStore;
import io.creditledger.time.Now;
import io.creditledger.wire.Input;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The ledger's grants, revokes and reads. Grants and revokes run inside a write batch's transaction ({@link WriteBatch}),
 * which holds the users' row locks (they serialize every balance change of a user); reads see one snapshot.
 */
public final class LedgerService {

  private final Pool pool;
  private final SqlClient reads;
  private final LedgerConfig config;
  private final Transactions transactions;
  private final LedgerStore store;
  private final GrantOnce grants;
  private final GrantRevoker revoker;
  private final OutboxStore outbox;
  private final UserLocks locks;
  private final ResetService resets;
  private final UserStore users;

  /** @param reads where a balance is read (pipelined one-shot statements) */
  public LedgerService(Pool pool, SqlClient reads, LedgerConfig config, Transactions transactions, Stores stores,
                       GrantOnce grants, GrantRevoker revoker, UserLocks locks, ResetService resets) {
    this.pool = pool;
    this.reads = reads;
    this.config = config;
    this.transactions = transactions;
    this.store = stores.ledger();
    this.outbox = stores.outbox();
    this.users = stores.users();
    this.grants = grants;
    this.revoker = revoker;
    this.locks = locks;
    this.resets = resets;
  }

  private Instant now() {
    return Now.of(config.clock());
  }

  // ---- grants

  /** A grant, inside a write batch's transaction (which holds the user's lock). */
  public Future<Answer<GrantView.Created>> grant(SqlConnection conn, Command.GrantCredits c, Instant now) {
    if (c.expiresAt() != null && !c.expiresAt().isAfter(now)) {
      return Future.failedFuture(Input.invalid("expiresAt", "must be in the future"));
    }
    GrantWriter.Spec spec = new GrantWriter.Spec(c.operationId(), c.type(), c.amount(), c.description(), c.expiresAt());
    return grants.write(conn, c.userId(), spec, now);
  }

  public Future<Answer<Page<GrantView>>> listGrants(Command.ListGrants c) {
    Instant now = now();
    return resets.currentUser(c.userId(), now)
        .compose(user -> store.listGrants(pool, c.userId(), c.before(), c.limit()))
        .compose(list -> outbox.openRows(pool, list.stream().map(Grant::grantId).toList()).map(open -> {
          List<GrantView> views = list.stream().map(g -> GrantView.of(g, now, open.get(g.grantId()))).toList();
          return Answer.ok(new Page<>(views, Page.nextBefore(list, c.limit(), Grant::grantId)));
        }));
  }

  // ---- reads

  public Future<Answer<Balance>> balance(Command.GetBalance c) {
    Instant now = now();
    return readBalance(c.userId(), now).compose(balance -> balance.isPresent() ? Future.succeededFuture(balance.get())
        : resets.applyDue(c.userId(), now).compose(v -> readBalance(c.userId(), now)).map(again -> again.orElseThrow(
            () -> new LedgerException(ErrorCode.LEDGER_BUSY, "The user's reset is still being applied; retry"))))
        .map(Answer::ok);
  }

  /**
   * The balance from one statement over the user row and its grants (one snapshot, so usage and balances agree under
   * concurrent consumption); empty when the user's cycle has ended and its reset is due first.
   */
  private Future<Optional<Balance>> readBalance(String userId, Instant now) {
    return store.balanceSnapshot(reads, userId, now).map(found -> {
      LedgerStore.BalanceSnapshot snapshot = found.orElseThrow(() -> Accounts.notFound(userId));
      if (!snapshot.nextQuotaReset().isAfter(now)) {
        return Optional.empty();
      }
      return Optional.of(Balance.of(snapshot.live(), snapshot.held(), now, snapshot.usageThisCycle(),
          snapshot.nextQuotaReset()));
    });
  }

  public Future<Answer<Page<JournalEntry>>> journal(Command.ListJournal c) {
    return resets.currentUser(c.userId(), now())
        .compose(user -> store.journal(pool, c.userId(), c.before(), c.limit()))
        .map(entries -> Answer.ok(Page.of(entries, c.limit(), JournalEntry::entryId)));
  }

  // ---- revoke

  /** A revoke, inside a write batch's transaction (which holds the grant's user's lock, when it exists). */
  public Future<Answer<GrantView.Revoked>> revoke(SqlConnection conn, Command.Revoke c, Instant now) {
    return store.grantByOperation(conn, c.operationId()).compose(found -> {
      Grant grant = found.orElseThrow(() -> new LedgerException(ErrorCode.GRANT_NOT_FOUND,
          "No grant with operationId \"" + c.operationId() + "\""));
      return locks.lock(conn, grant.userId(), now)
          .compose(user -> store.grantByOperation(conn, c.operationId()))
          .compose(locked -> revokeLocked(conn, locked.orElseThrow(), c.reason(), now));
    });
  }

  private Future<Answer<GrantView.Revoked>> revokeLocked(SqlConnection conn, Grant grant, String reason, Instant now) {
    if (grant.closedBy() == CloseReason.REVOKE) {
      return Future.succeededFuture(Answer.ok(new GrantView.Revoked(GrantView.of(grant, now), 0)));
    }
    return revoker.revoke(conn, grant, Long.MAX_VALUE, true, reason, "revoke/" + grant.operationId(), now)
        .map(r -> Answer.ok(new GrantView.Revoked(GrantView.of(r.grant(), now), r.credits())));
  }
}
