package io.creditledger.domain;


import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Compares one Stripe customer's credit grants as the ledger mirrors them with what Stripe holds. Pure: the
 * service reads both sides and acts on the drift this finds.
 *
 * <p>A local grant whose create is still on its way is not judged yet; neither is the void flag of one whose void
 * is. A grant is expected in Stripe with its current mirror id, voided exactly when the ledger voided it, worth
 * what is left of its value ({@code floor(cents × (principal − revoked) / principal)}, see partial revokes) and
 * with its expiry. A Stripe grant made by the ledger (it carries {@code metadata.operationId}) that is no grant's
 * current mirror must be voided: either an old mirror the ledger replaced, or one it does not know at all.
 */
public final class MirrorDrift {
  private MirrorDrift() {
  }

  public enum Kind {
    MISSING_IN_STRIPE, UNKNOWN_IN_STRIPE, AMOUNT_MISMATCH, VOIDED_MISMATCH, EXPIRY_MISMATCH;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Kind fromWire(String value) {
      return valueOf(value.toUpperCase(Locale.ROOT));
    }
  }

  /**
   * A mirrored grant as the ledger has it.
   *
   * @param revoked credits revoked from it (what its mirror's value no longer includes)
   * @param createInFlight a create of it is waiting in the outbox
   * @param voidInFlight a void of it is waiting in the outbox
   * @param earlierMirrors Stripe ids of mirrors it had before (replaced after partial revokes)
   */
  public record Local(Grant grant, long revoked, boolean createInFlight, boolean voidInFlight,
                      Set<String> earlierMirrors) {
    public boolean voided() {
      return grant.stripeVoidedAt() != null;
    }

    public long expectedCents() {
      return Rollover.worth(grant, Math.max(0, grant.principal() - revoked));
    }

  }

  /** A credit grant as Stripe holds it; {@code operationId} is its metadata's, null when the ledger did not make it. */
  public record Remote(String id, String operationId, long cents, boolean voided, Long expiresAt) {
  }

  /** One difference; {@code local} (the grant, when there is one) and {@code remote} as they stand. */
  public record Drift(String userId, Kind kind, Local local, Remote remote) {
    public String operationId() {
      return local != null ? local.grant().operationId() : remote.operationId();
    }

    public String stripeGrantId() {
      return remote != null ? remote.id() : local.grant().stripeGrantId();
    }

    public ReconcileRun.DriftReport report() {
      ReconcileRun.Side here = local == null ? null : new ReconcileRun.Side(local.grant().stripeGrantId(),
          local.expectedCents(), local.voided(),
          local.grant().expiresAt() == null ? null : local.grant().expiresAt().getEpochSecond());
      ReconcileRun.Side there = remote == null ? null
          : new ReconcileRun.Side(remote.id(), remote.cents(), remote.voided(), remote.expiresAt());
      return new ReconcileRun.DriftReport(userId, operationId(), stripeGrantId(), kind, here, there);
    }

  }

  /** @param owner the user an unknown Stripe grant is reported under (the customer's user) */
  public static List<Drift> compare(String owner, List<Local> locals, List<Remote> remotes) {
    Map<String, Remote> byId = new HashMap<>();
    remotes.forEach(r -> byId.put(r.id(), r));
    Map<String, Local> current = new HashMap<>();
    Map<String, Local> earlier = new HashMap<>();
    List<Drift> drift = new ArrayList<>();
    for (Local l : locals) {
      Grant g = l.grant();
      l.earlierMirrors().forEach(id -> earlier.put(id, l));
      if (g.stripeGrantId() != null) {
        current.put(g.stripeGrantId(), l);
      }
      if (l.createInFlight()) {
        continue;
      }
      Remote r = g.stripeGrantId() == null ? null : byId.get(g.stripeGrantId());
      if (r == null) {
        if (!l.voided()) {
          drift.add(new Drift(g.userId(), Kind.MISSING_IN_STRIPE, l, null));
        }
        continue;
      }
      if (!l.voidInFlight() && r.voided() != l.voided()) {
        drift.add(new Drift(g.userId(), Kind.VOIDED_MISMATCH, l, r));
        continue;
      }
      if (r.voided()) {
        continue;
      }
      if (r.cents() != l.expectedCents()) {
        drift.add(new Drift(g.userId(), Kind.AMOUNT_MISMATCH, l, r));
      }
      Long expires = g.expiresAt() == null ? null : g.expiresAt().getEpochSecond();
      if (!Objects.equals(expires, r.expiresAt())) {
        drift.add(new Drift(g.userId(), Kind.EXPIRY_MISMATCH, l, r));
      }
    }
    for (Remote r : remotes) {
      if (r.operationId() == null || r.voided() || current.containsKey(r.id())) {
        continue;
      }
      Local replaced = earlier.get(r.id());
      if (replaced != null) {
        if (!replaced.voidInFlight()) {
          drift.add(new Drift(replaced.grant().userId(), Kind.VOIDED_MISMATCH, replaced, r));
        }
      } else {
        drift.add(new Drift(owner, Kind.UNKNOWN_IN_STRIPE, null, r));
      }
    }
    return drift;
  }
}
