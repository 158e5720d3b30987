package io.creditledger.domain;

import java.time.Instant;
import java.util.Locale;

/** A user's membership of an org, with the user's role there. */
public record OrgMember(String orgId, String userId, Role role, Instant addedAt) {

  public enum Role {
    OWNER, ADMIN, MEMBER;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The role named {@code value}, or null. */
    public static Role fromWire(String value) {
      for (Role r : values()) {
        if (r.wire().equals(value)) {
          return r;
        }
      }
      return null;
    }
  }
}
