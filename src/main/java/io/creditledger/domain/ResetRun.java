package io.creditledger.domain;

import java.util.List;

/** What one run of the due resets did: how many users it reset, and whose reset failed, with the error. */
public record ResetRun(int reset, List<Failure> failed) {
  public record Failure(String userId, String error) {
  }
}
