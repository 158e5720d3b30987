package io.creditledger.domain;

/** The database answers and holds {@code changeSets} changesets, as many as this build carries. */
public record Readiness(long changeSets) {
}
