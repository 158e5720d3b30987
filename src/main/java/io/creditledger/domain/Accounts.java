package io.creditledger.domain;

import io.creditledger.error.LedgerException;

/**
 * The ledger keeps balances for accounts of two kinds, users and orgs, with one engine. A user's account key is the
 * user's id; an org's is {@code org/<orgId>}. Ids never hold a {@code /}, so no user's key equals an org's, and every
 * per-account row (grants, journal, operations, holds, outbox, events) keys an org the way it keys a user.
 */
public final class Accounts {
  public static final String ORG_PREFIX = "org/";

  private Accounts() {
  }

  /** The account key of the org {@code orgId}. */
  public static String ofOrg(String orgId) {
    return ORG_PREFIX + orgId;
  }

  public static boolean isOrg(String accountKey) {
    return accountKey != null && accountKey.startsWith(ORG_PREFIX);
  }

  /** No account with this key: 404 user_not_found, or org_not_found for an org's key. */
  public static LedgerException notFound(String accountKey) {
    return isOrg(accountKey) ? LedgerException.orgNotFound(orgId(accountKey))
        : LedgerException.userNotFound(accountKey);
  }

  /** The org's id from its account key, or null when the key is a user's. */
  public static String orgId(String accountKey) {
    return isOrg(accountKey) ? accountKey.substring(ORG_PREFIX.length()) : null;
  }
}
