package io.creditledger.money;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * What one credit costs a user, in cents: an exact decimal (never floating point) with at most
 * {@value #MAX_SCALE} decimal places, so 0.5 or 0.0125 cents per credit are possible. Conversions follow the
 * original system: {@code cents = ceil(credits × centsPerCredit)} and back
 * {@code credits = round(cents / centsPerCredit)} (half up).
 */
public final class CentsPerCredit {
  public static final int MAX_SCALE = 4;
  public static final BigDecimal MAX = new BigDecimal("1000000");

  private CentsPerCredit() {
  }

  /** Parses a decimal text such as "1", "0.5" or "2.25"; rejects zero, negatives, too many decimals, huge values. */
  public static BigDecimal parse(String text) {
    BigDecimal v;
    try {
      v = new BigDecimal(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("must be a decimal number of cents, got \"" + text + "\"");
    }
    return validate(v);
  }

  public static BigDecimal validate(BigDecimal v) {
    if (v.signum() <= 0) {
      throw new IllegalArgumentException("must be greater than 0");
    }
    if (v.compareTo(MAX) > 0) {
      throw new IllegalArgumentException("must be at most " + MAX.toPlainString());
    }
    BigDecimal normal = normalize(v);
    if (normal.scale() > MAX_SCALE) {
      throw new IllegalArgumentException("must have at most " + MAX_SCALE + " decimal places");
    }
    return normal;
  }

  /** The shortest plain form: 1.5000 becomes 1.5 and 100 stays 100 (not 1E+2). */
  public static BigDecimal normalize(BigDecimal v) {
    BigDecimal stripped = v.stripTrailingZeros();
    return stripped.scale() < 0 ? stripped.setScale(0) : stripped;
  }

  /** {@code ceil(credits × centsPerCredit)}: the cents a grant of {@code credits} is worth. */
  public static long centsFor(long credits, BigDecimal centsPerCredit) {
    return BigDecimal.valueOf(credits).multiply(centsPerCredit).setScale(0, RoundingMode.CEILING).longValueExact();
  }

  /** {@code round(cents / centsPerCredit)}: the credits that {@code cents} buy. */
  public static long creditsFor(long cents, BigDecimal centsPerCredit) {
    return BigDecimal.valueOf(cents).divide(centsPerCredit, 0, RoundingMode.HALF_UP).longValueExact();
  }
}
