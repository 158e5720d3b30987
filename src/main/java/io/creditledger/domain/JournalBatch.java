package io.creditledger.domain;


import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The balance changes one transaction makes, each becoming a journal entry, with the running balance of every
 * grant it touches. {@code LedgerStore.apply} writes them: one UPDATE for the grants (guarded by their balances
 * as read under the user's lock) and one INSERT for the journal.
 */
public final class JournalBatch {
  public record Entry(long grantId, JournalKind kind, long delta, long balanceAfter, String operationId, String description) {
  }

  private final List<Entry> entries = new ArrayList<>();
  private final Map<Long, long[]> balances = new LinkedHashMap<>();

  /** Records {@code delta} on {@code grant}; returns the grant's balance after it. */
  public long add(Grant grant, long delta, JournalKind kind, String operationId, String description) {
    long[] b = balances.computeIfAbsent(grant.grantId(), id -> new long[] {grant.balance(), grant.balance()});
    b[1] += delta;
    entries.add(new Entry(grant.grantId(), kind, delta, b[1], operationId, description));
    return b[1];
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }

  public List<Entry> entries() {
    return entries;
  }

  /** Grant id → {balance before the batch, balance after it}. */
  public Map<Long, long[]> balances() {
    return balances;
  }

  public long balanceOf(Grant grant) {
    long[] b = balances.get(grant.grantId());
    return b == null ? grant.balance() : b[1];
  }
}
