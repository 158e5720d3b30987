package io.creditledger.domain;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The balance changes one transaction makes (for one user or, in a batch, for many), each becoming a journal
 * entry, with the running balance of every grant it touches. {@code LedgerStore.writeDecided} writes them in one
 * statement: an UPDATE of the grants whose balance changed (guarded by their balances as read under the user's lock)
 * and an INSERT of the journal.
 */
public final class JournalBatch {
  public record Entry(String userId, long grantId, JournalKind kind, long delta, long balanceAfter, String operationId,
                      String description) {
  }

  /** A grant's balance as read under the user's lock, and as the batch leaves it. */
  public record BalanceChange(long before, long after) {
  }

  private final List<Entry> entries = new ArrayList<>();
  private final Map<Long, BalanceChange> balances = new LinkedHashMap<>();
  /** grants opened by this batch: their INSERT writes the principal as their balance */
  private final Set<Long> opened = new HashSet<>();

  /** Records {@code delta} on {@code grant}; returns the grant's balance after it. */
  public long add(Grant grant, long delta, JournalKind kind, String operationId, String description) {
    BalanceChange was = balances.getOrDefault(grant.grantId(), new BalanceChange(grant.balance(), grant.balance()));
    long after = Math.addExact(was.after(), delta);
    balances.put(grant.grantId(), new BalanceChange(was.before(), after));
    entries.add(new Entry(grant.userId(), grant.grantId(), kind, delta, after, operationId, description));
    return after;
  }

  /**
   * Records the opening entry of a grant written in this batch with its whole principal as its balance: {@code kind}
   * grant (or rollover_in), delta = principal.
   */
  public void open(Grant grant, JournalKind kind, String description) {
    balances.put(grant.grantId(), new BalanceChange(grant.principal(), grant.principal()));
    opened.add(grant.grantId());
    entries.add(new Entry(grant.userId(), grant.grantId(), kind, grant.principal(), grant.principal(),
        grant.operationId(), description));
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }

  public List<Entry> entries() {
    return entries;
  }

  /**
   * Grant id → its balance before the batch and after it, in the order the batch first touched them, for every grant
   * the batch touched but those it opened that still hold their principal (their INSERT wrote it; an UPDATE to the
   * same value would only leave a dead row version behind).
   */
  public Map<Long, BalanceChange> balancesToWrite() {
    if (opened.isEmpty()) {
      return balances;
    }
    Map<Long, BalanceChange> out = new LinkedHashMap<>();
    balances.forEach((grantId, change) -> {
      if (!opened.contains(grantId) || change.after() != change.before()) {
        out.put(grantId, change);
      }
    });
    return out;
  }

  public long balanceOf(Grant grant) {
    BalanceChange b = balances.get(grant.grantId());
    return b == null ? grant.balance() : b.after();
  }
}
