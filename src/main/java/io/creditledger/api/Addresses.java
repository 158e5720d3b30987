package io.creditledger.api;

/**
 * The ledger's event-bus addresses. Requests and replies are JSON objects; failures are replies failed with
 * the HTTP-like status as failure code and {@code {"code","message"}} as message (see {@link LedgerException}).
 */
public final class Addresses {
  public static final String READY = "ledger.ready";
  public static final String USER_PUT = "ledger.users.put";
  public static final String USER_GET = "ledger.users.get";

  private Addresses() {
  }
}
