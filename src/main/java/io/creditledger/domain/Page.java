package io.creditledger.domain;

import java.util.List;

/** One page of a list, newest first; {@code nextBefore} asks for the next page (null on the last one). */
public record Page<T>(List<T> items, Long nextBefore) {
}
