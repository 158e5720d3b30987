package io.creditledger.domain;

/**
 * What a ledger operation answers: its result, whether it created something (HTTP 201) and whether it is the stored
 * answer of an earlier request with the same operationId (an idempotent replay).
 */
public record Answer<T>(T result, boolean created, boolean replayed) {
  public static <T> Answer<T> ok(T result) {
    return new Answer<>(result, false, false);
  }

  public static <T> Answer<T> created(T result) {
    return new Answer<>(result, true, false);
  }

  public static <T> Answer<T> replay(T result, boolean created) {
    return new Answer<>(result, created, true);
  }
}
