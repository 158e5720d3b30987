package io.creditledger.domain;

import java.time.Instant;
import java.util.Locale;

/**
 * An authorization hold: {@code amount} credits reserved for the user until {@code expiresAt}, then captured (part or
 * all of it consumed, the rest let go), released, or expired. A hold moves no credits; while it is held it lowers
 * what the user may spend. {@code holdId} is the operationId the hold was placed with.
 *
 * @param captureOperationId the capture's operationId, once captured
 * @param captured the credits the capture consumed, once captured
 * @param memberId on an org's pool ({@code userId} is then the org's account key): the member the hold is for
 */
public record Hold(String holdId, String userId, long amount, State state, Instant expiresAt, Instant createdAt,
                   Instant closedAt, String captureOperationId, Long captured, String memberId) {

  public enum State {
    HELD, CAPTURED, RELEASED, EXPIRED;

    private final String wire = name().toLowerCase(Locale.ROOT);

    public String wire() {
      return wire;
    }

    public static State fromWire(String s) {
      for (State state : values()) {
        if (state.wire.equals(s)) {
          return state;
        }
      }
      throw new IllegalArgumentException("Not a hold state: " + s);
    }
  }

  /** The state as of {@code now}: a held hold past its expiry is expired, whether or not that was written yet. */
  public State stateAt(Instant now) {
    return state == State.HELD && !expiresAt.isAfter(now) ? State.EXPIRED : state;
  }

  /** Whether the hold still reserves its credits at {@code now}. */
  public boolean heldAt(Instant now) {
    return stateAt(now) == State.HELD;
  }

  /** The hold as {@link #stateAt} has it: one past its expiry is expired, closed when it expired. */
  public Hold asOf(Instant now) {
    return stateAt(now) == state ? this : closed(State.EXPIRED, expiresAt, null, null);
  }

  public Hold closed(State to, Instant now, String captureOperationId, Long captured) {
    return new Hold(holdId, userId, amount, to, expiresAt, createdAt, now, captureOperationId, captured, memberId);
  }
}
