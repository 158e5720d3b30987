package io.creditledger.service;

import io.creditledger.domain.Accounts;
import io.creditledger.domain.User;
import io.creditledger.store.LedgerStore;
import io.creditledger.store.Stores;
import io.creditledger.store.UserStore;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;
import java.util.Optional;

/**
 * The start of every change to a user's balance: the user's row lock, which serializes the user's changes, and
 * then the user's due reset, applied in the same transaction with the scanner's code ({@link ResetService}), so
 * nothing ever lands in a cycle that has ended.
 */
public final class UserLocks {
  private final LedgerStore store;
  private final ResetService resets;
  private final UserStore users;

  public UserLocks(Stores stores, ResetService resets) {
    this.store = stores.ledger();
    this.users = stores.users();
    this.resets = resets;
  }

  /**
   * Locks the user and reads what is stored under {@code operationId}. A replay changes nothing, so only a new
   * operation applies the due reset; the user answered is then the one the reset left.
   */
  public Future<LedgerStore.LockedUser> lockForOperation(SqlConnection conn, String userId, String operationId,
                                                         Instant now) {
    return store.lockUserWithOperation(conn, userId, operationId).compose(found -> {
      LedgerStore.LockedUser locked = found.orElseThrow(() -> Accounts.notFound(userId));
      if (locked.operation().isPresent()) {
        return Future.succeededFuture(locked);
      }
      return resets.resetIfDue(conn, locked.user(), now)
          .map(user -> new LedgerStore.LockedUser(user, Optional.empty()));
    });
  }

  /** Locks the user and applies its due reset; 404 when there is no such user. */
  public Future<User> lock(SqlConnection conn, String userId, Instant now) {
    return users.lock(conn, userId)
        .compose(user -> resets.resetIfDue(conn, user.orElseThrow(() -> Accounts.notFound(userId)), now));
  }
}
