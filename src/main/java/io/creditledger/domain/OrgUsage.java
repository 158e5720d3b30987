package io.creditledger.domain;

import java.time.Instant;
import java.util.List;

/** What each member consumed from an org's pool in [from, to), in credits. */
public record OrgUsage(String orgId, Instant from, Instant to, List<Member> members) {

  public record Member(String userId, long credits) {
  }

  public long total() {
    return members.stream().mapToLong(Member::credits).sum();
  }
}
