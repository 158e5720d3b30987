package io.creditledger.domain;

import java.time.Instant;

/** What the API-key vault answers. */
public sealed interface ApiKey {
  /** A key stored (encrypted). */
  record Stored(String userId, String type, Instant updatedAt) implements ApiKey {
  }

  /** A key read back, decrypted. */
  record Value(String userId, String type, String apiKey, Instant updatedAt) implements ApiKey {
  }

  /** A key removed. */
  record Deleted(String userId, String type) implements ApiKey {
  }
}
