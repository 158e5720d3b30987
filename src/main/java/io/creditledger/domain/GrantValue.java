package io.creditledger.domain;

import java.math.BigDecimal;

/** What a grant is worth when that is not its credits at the user's price (a rollover keeps its sources' worth). */
public record GrantValue(long cents, BigDecimal centsPerCredit) {
}
