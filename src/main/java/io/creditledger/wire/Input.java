package io.creditledger.wire;

import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the fields of a request strictly: a missing, mistyped or out-of-range field is a 400 with a code and
 * a message that names the field, and fields the operation does not know are refused rather than ignored.
 */
public final class Input {
  public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");
  /**
   * A grant's operationId as the ledger may have made it itself: a client's id, or a sign-up, cycle or import grant
   * ({@code free/<user>/<reset>}, {@code referral/...}, {@code rollover/...}, {@code stripe/<credit grant id>}), or an
   * auto top-up's purchase ({@code topup/<user>/<n>}).
   */
  public static final Pattern GRANT_ID = Pattern.compile(ID.pattern()
      + "|(free|referral|rollover|stripe|topup)/[A-Za-z0-9._:@/-]{1,250}");
  /** An auto top-up's purchase: {@code topup/<userId>/<n>}. */
  /** An account key: a user's id, or {@code org/} and an org's id. */
  public static final Pattern ACCOUNT = Pattern.compile("(org/)?" + ID.pattern());
  public static final Pattern TOP_UP_ID = Pattern.compile("topup/" + ACCOUNT.pattern() + "/[1-9][0-9]{0,9}");

  private final JsonObject json;

  private Input(JsonObject json) {
    this.json = json;
  }

  /** Wraps a request, refusing any field outside {@code allowed}. */
  public static Input of(JsonObject json, Set<String> allowed) {
    if (json == null) {
      throw new LedgerException(ErrorCode.INVALID_BODY, "The request needs a JSON object body");
    }
    for (String name : json.fieldNames()) {
      if (!allowed.contains(name)) {
        throw new LedgerException(ErrorCode.UNKNOWN_FIELD, "Unknown field \"" + printable(name) + "\"");
      }
    }
    return new Input(json);
  }

  public boolean has(String name) {
    return json.containsKey(name);
  }

  public String string(String name, int maxLength) {
    String v = optionalString(name, maxLength);
    if (v == null) {
      throw missing(name);
    }
    return v;
  }

  public String optionalString(String name, int maxLength) {
    Object v = json.getValue(name);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw invalid(name, "must be a string");
    }
    if (s.isEmpty()) {
      throw invalid(name, "must not be empty");
    }
    if (s.length() > maxLength) {
      throw invalid(name, "must be at most " + maxLength + " characters");
    }
    if (!isCleanText(s)) {
      throw invalid(name, "must be valid Unicode text without control characters");
    }
    return s;
  }

  /** No NUL or other control characters (tab and line breaks aside) and no unpaired UTF-16 surrogates. */
  static boolean isCleanText(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      } else if (Character.isISOControl(c) && c != '\t' && c != '\n' && c != '\r') {
        return false;
      }
    }
    return true;
  }

  public String matching(String name, Pattern pattern, String what) {
    String v = string(name, 256);
    if (!pattern.matcher(v).matches()) {
      throw invalid(name, "must be " + what);
    }
    return v;
  }

  public String optionalMatching(String name, Pattern pattern, String what) {
    String v = optionalString(name, 256);
    if (v != null && !pattern.matcher(v).matches()) {
      throw invalid(name, "must be " + what);
    }
    return v;
  }

  /** An identifier such as a userId or operationId: 1-128 of letters, digits and {@code . _ : @ -}. */
  public String id(String name) {
    return matching(name, ID, "1-128 letters, digits or . _ : @ - (starting with a letter or digit)");
  }

  /** A JSON true or false; {@code otherwise} when absent or null. */
  public boolean optionalBoolean(String name, boolean otherwise) {
    Object v = json.getValue(name);
    if (v == null) {
      return otherwise;
    }
    if (!(v instanceof Boolean b)) {
      throw invalid(name, "must be true or false");
    }
    return b;
  }

  /** The operationId of any grant, the ledger's own cycle and import grants included. */
  public String grantId(String name) {
    return matching(name, GRANT_ID, "a grant's operationId");
  }

  /** A whole number in {@code [min, max]}; decimals, strings and huge numbers are refused. */
  public long integer(String name, long min, long max) {
    Object v = json.getValue(name);
    if (v == null) {
      throw missing(name);
    }
    if (!(v instanceof Integer || v instanceof Long || v instanceof BigInteger || v instanceof Short)) {
      throw invalid(name, "must be a whole number between " + min + " and " + max);
    }
    BigInteger n = v instanceof BigInteger b ? b : BigInteger.valueOf(((Number) v).longValue());
    if (n.compareTo(BigInteger.valueOf(min)) < 0 || n.compareTo(BigInteger.valueOf(max)) > 0) {
      throw invalid(name, "must be between " + min + " and " + max);
    }
    return n.longValueExact();
  }

  /** A decimal given as a JSON number or a string, read exactly (never through binary floating point arithmetic). */
  public BigDecimal optionalDecimal(String name) {
    Object v = json.getValue(name);
    if (v == null) {
      return null;
    }
    try {
      if (v instanceof String s) {
        return new BigDecimal(s.trim());
      }
      if (v instanceof Integer || v instanceof Long || v instanceof BigInteger) {
        return new BigDecimal(v.toString());
      }
      if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
        // Double.toString gives the shortest decimal that reads back as this double: the text the caller sent
        return new BigDecimal(v.toString());
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw invalid(name, "must be a decimal number");
  }

  /** The latest instant accepted anywhere (PostgreSQL stores far more, but nothing sensible lies beyond). */
  public static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

  public Instant optionalInstant(String name) {
    String v = optionalString(name, 64);
    if (v == null) {
      return null;
    }
    Instant t;
    try {
      t = Instant.parse(v);
    } catch (DateTimeParseException e) {
      throw invalid(name, "must be an ISO-8601 UTC timestamp such as 2026-01-31T00:00:00Z");
    }
    if (t.isAfter(LATEST) || t.getEpochSecond() < 0) {
      throw invalid(name, "must lie between 1970 and 9999");
    }
    return t;
  }

  /** An ISO-8601 duration such as PT15M, positive; null when absent. */
  public Duration optionalDuration(String name) {
    String v = optionalString(name, 64);
    if (v == null) {
      return null;
    }
    Duration d;
    try {
      d = Duration.parse(v);
    } catch (DateTimeParseException e) {
      throw invalid(name, "must be an ISO-8601 duration such as PT15M");
    }
    if (d.isNegative() || d.isZero()) {
      throw invalid(name, "must be positive");
    }
    return d;
  }

  public static LedgerException missing(String name) {
    return new LedgerException(ErrorCode.MISSING_FIELD, "Field \"" + name + "\" is required");
  }

  public static LedgerException invalid(String name, String why) {
    return new LedgerException(ErrorCode.INVALID_FIELD, "Field \"" + name + "\" " + why);
  }

  private static String printable(String s) {
    String cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
    return cut.replaceAll("[^\\x20-\\x7e]", "?").replace("\"", "'");
  }
}
