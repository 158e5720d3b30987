package io.creditledger.domain;

import java.util.List;
import java.util.function.ToLongFunction;

/** One page of a list, newest first; {@code nextBefore} asks for the next page (null on the last one). */
public record Page<T>(List<T> items, Long nextBefore) {

  /**
   * The cursor after {@code rows}, read with at most {@code limit} rows: the last row's {@code id} when the page is
   * full (there may be more), else null.
   */
  public static <R> Long nextBefore(List<R> rows, int limit, ToLongFunction<R> id) {
    return rows.size() == limit ? id.applyAsLong(rows.get(rows.size() - 1)) : null;
  }

  /** A page of {@code rows} themselves, read with at most {@code limit} rows. */
  public static <T> Page<T> of(List<T> rows, int limit, ToLongFunction<T> id) {
    return new Page<>(rows, nextBefore(rows, limit, id));
  }
}
