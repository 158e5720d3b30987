package io.creditledger.service;

import io.creditledger.store.LedgerStore;
import io.creditledger.error.LedgerException;
import io.creditledger.domain.User;
import io.creditledger.store.UserStore;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

import java.time.Instant;

/**
 * The start of every change to a user's balance: the user's row lock, which serializes the user's changes, and
 * then the user's due reset, applied in the same transaction with the scanner's code ({@link ResetService}), so
 * nothing ever lands in a cycle that has ended.
 */
public final class UserLocks {
  private final LedgerStore store;
  private final ResetService resets;
  private final UserStore users = new UserStore();

  public UserLocks(LedgerStore store, ResetService resets) {
    this.store = store;
    this.resets = resets;
  }

  /**
   * Locks the user and reads what is stored under {@code operationId}. A replay changes nothing, so only a new
   * operation applies the due reset; the user answered is then the one the reset left.
   */
  public Future<LedgerStore.LockedUser> lockForOperation(SqlConnection conn, String userId, String operationId,
                                                         Instant now) {
    return store.lockUserWithOperation(conn, userId, operationId).compose(locked -> {
      if (locked == null) {
        throw LedgerException.userNotFound(userId);
      }
      if (locked.operation() != null) {
        return Future.succeededFuture(locked);
      }
      return resets.resetIfDue(conn, locked.user(), now).map(user -> new LedgerStore.LockedUser(user, null));
    });
  }

  /** Locks the user and applies its due reset; 404 when there is no such user. */
  public Future<User> lock(SqlConnection conn, String userId, Instant now) {
    return users.lock(conn, userId).compose(user -> {
      if (user == null) {
        throw LedgerException.userNotFound(userId);
      }
      return resets.resetIfDue(conn, user, now);
    });
  }
}
