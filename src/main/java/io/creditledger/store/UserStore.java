package io.creditledger.store;

import io.creditledger.db.Templates;
import io.creditledger.domain.User;
import io.creditledger.money.CentsPerCredit;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.data.Numeric;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static io.creditledger.db.Rows.first;
import static io.creditledger.time.Now.sql;

/** The SQL of users, in one place. */
public final class UserStore {
  static final String COLUMNS = """
    user_id, email, stripe_customer_id, cents_per_credit, billing_anchor_day, next_quota_reset,
    usage_this_cycle, referral_limit, created_at, updated_at""";

  /**
   * Inserts the user, or updates the fields given. On update, a null {@code stripeCustomerId} or
   * {@code centsPerCredit} keeps the stored value unless {@code clearStripeCustomerId}.
   */
  private static final String UPSERT = """
    INSERT INTO users (%s)
    VALUES (#{userId}, #{email}, #{stripeCustomerId},
        COALESCE(#{centsPerCredit}::numeric, #{defaultCentsPerCredit}::numeric),
        #{anchorDay}, #{nextQuotaReset}, 0, #{referralLimit}, #{now}, #{now})
    ON CONFLICT (user_id) DO UPDATE SET
      email = EXCLUDED.email,
      stripe_customer_id = CASE WHEN #{clearStripeCustomerId}::boolean THEN NULL
          ELSE COALESCE(#{stripeCustomerId}::text, users.stripe_customer_id) END,
      cents_per_credit = COALESCE(#{centsPerCredit}::numeric, users.cents_per_credit),
      referral_limit = CASE WHEN #{setReferralLimit}::boolean THEN #{referralLimit}::integer
          ELSE users.referral_limit END,
      updated_at = EXCLUDED.updated_at
    RETURNING %s, (xmax = 0) AS created""".formatted(COLUMNS, COLUMNS);

  private static final String GET = """
    SELECT %s
    FROM users
    WHERE user_id = #{userId}""".formatted(COLUMNS);
  private static final String GET_FOR_UPDATE = GET + " FOR UPDATE";
  private static final String BY_STRIPE_CUSTOMER = """
    SELECT %s
    FROM users
    WHERE stripe_customer_id = #{customer}
    ORDER BY created_at
    LIMIT 1""".formatted(COLUMNS);

  /** @param setReferralLimit whether the request named {@code referralLimit} (null then restores the default) */
  public record Upsert(String userId, String email, String stripeCustomerId, boolean clearStripeCustomerId,
                       BigDecimal centsPerCredit, boolean setReferralLimit, Integer referralLimit) {
  }

  public record Saved(User user, boolean created) {
  }

  public Future<Saved> upsert(SqlClient client, Upsert u, BigDecimal defaultCentsPerCredit, int anchorDay,
                              Instant nextQuotaReset, Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("userId", u.userId());
    p.put("email", u.email());
    p.put("stripeCustomerId", u.stripeCustomerId());
    p.put("clearStripeCustomerId", u.clearStripeCustomerId());
    p.put("centsPerCredit", u.centsPerCredit() == null ? null : Numeric.create(u.centsPerCredit()));
    p.put("defaultCentsPerCredit", Numeric.create(defaultCentsPerCredit));
    p.put("anchorDay", (short) anchorDay);
    p.put("setReferralLimit", u.setReferralLimit());
    p.put("referralLimit", u.referralLimit());
    p.put("nextQuotaReset", sql(nextQuotaReset));
    p.put("now", sql(now));
    return Templates.forQuery(client, UPSERT).execute(p)
        .map(rows -> {
          Row row = rows.iterator().next();
          return new Saved(toUser(row), row.getBoolean("created"));
        });
  }

  public Future<Optional<User>> find(SqlClient client, String userId) {
    return one(client, GET, userId);
  }

  /** The user linked to a Stripe customer (the oldest, should several share one). */
  public Future<Optional<User>> findByStripeCustomer(SqlClient client, String customer) {
    return Templates.forQuery(client, BY_STRIPE_CUSTOMER).execute(Map.of("customer", customer))
        .map(rows -> first(rows).map(UserStore::toUser));
  }

  /** The user, locked until the end of the transaction: it serializes every balance change of one user. */
  public Future<Optional<User>> lock(SqlClient client, String userId) {
    return one(client, GET_FOR_UPDATE, userId);
  }

  private Future<Optional<User>> one(SqlClient client, String sql, String userId) {
    return Templates.forQuery(client, sql).execute(Map.of("userId", userId))
        .map(rows -> first(rows).map(UserStore::toUser));
  }

  public static User toUser(Row row) {
    return new User(
        row.getString("user_id"),
        row.getString("email"),
        row.getString("stripe_customer_id"),
        CentsPerCredit.normalize(row.getBigDecimal("cents_per_credit")),
        row.getShort("billing_anchor_day"),
        row.getOffsetDateTime("next_quota_reset").toInstant(),
        row.getLong("usage_this_cycle"),
        row.getInteger("referral_limit"),
        row.getOffsetDateTime("created_at").toInstant(),
        row.getOffsetDateTime("updated_at").toInstant());
  }
}
