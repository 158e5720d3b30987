package io.creditledger.store;

import io.creditledger.db.Templates;
import io.creditledger.domain.Accounts;
import io.creditledger.domain.Org;
import io.creditledger.domain.OrgMember;
import io.creditledger.domain.OrgUsage;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.creditledger.db.Rows.first;
import static io.creditledger.time.Now.sql;

/** The SQL of organizations, their members and who spent what of their pools. */
public final class OrgStore {
  private static final String ORG_COLUMNS = """
    o.org_id, o.name, o.credit_limit, o.created_at AS org_created_at, o.updated_at AS org_updated_at,
    u.user_id, u.email, u.stripe_customer_id, u.cents_per_credit, u.billing_anchor_day, u.next_quota_reset,
    u.usage_this_cycle, u.referral_limit, u.created_at, u.updated_at""";

  /** The org row; its account row is written first (see OrgService). */
  private static final String UPSERT = """
    INSERT INTO orgs (org_id, account_id, name, credit_limit, created_at, updated_at)
    VALUES (#{orgId}, #{accountId}, #{name}, #{creditLimit}, #{now}, #{now})
    ON CONFLICT (org_id) DO UPDATE SET
      name = COALESCE(#{name}::text, orgs.name),
      credit_limit = CASE WHEN #{setCreditLimit}::boolean THEN #{creditLimit}::bigint ELSE orgs.credit_limit END,
      updated_at = EXCLUDED.updated_at
    RETURNING (xmax = 0) AS created""";
  private static final String GET = """
    SELECT %s
    FROM orgs o JOIN users u ON u.user_id = o.account_id
    WHERE o.org_id = #{orgId}""".formatted(ORG_COLUMNS);

  private static final String PUT_MEMBER = """
    INSERT INTO org_members (org_id, user_id, role, added_at)
    VALUES (#{orgId}, #{userId}, #{role}, #{now})
    ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role
    RETURNING org_id, user_id, role, added_at, (xmax = 0) AS created""";
  private static final String DELETE_MEMBER = """
    DELETE FROM org_members WHERE org_id = #{orgId} AND user_id = #{userId}
    RETURNING org_id, user_id, role, added_at""";
  private static final String MEMBERS = """
    SELECT org_id, user_id, role, added_at FROM org_members WHERE org_id = #{orgId} ORDER BY user_id""";

  /** For a write batch: each (org, member) pair asked about, its org's limit and whether the member belongs. */
  private static final String GATES = """
    SELECT q.org_id, o.credit_limit, q.user_id, m.user_id IS NOT NULL AS member
    FROM unnest(#{orgIds}::text[], #{userIds}::text[]) AS q (org_id, user_id)
    JOIN orgs o ON o.org_id = q.org_id
    LEFT JOIN org_members m ON m.org_id = q.org_id AND m.user_id = q.user_id""";

  private static final String RECORD_USAGE = """
    INSERT INTO member_usage (operation_id, org_id, user_id, credits, created_at)
    SELECT operation_id, org_id, user_id, credits, #{now}
    FROM unnest(#{operationIds}::text[], #{orgIds}::text[], #{userIds}::text[], #{credits}::bigint[])
      AS u (operation_id, org_id, user_id, credits)
    ON CONFLICT (operation_id) DO NOTHING""";
  private static final String USAGE = """
    SELECT user_id, sum(credits)::bigint AS credits
    FROM member_usage
    WHERE org_id = #{orgId} AND created_at >= #{from} AND created_at < #{to}
    GROUP BY user_id
    ORDER BY user_id""";

  public record Upsert(String orgId, String name, boolean setCreditLimit, Long creditLimit) {
  }

  /** An org's limit, and which of the members the batch asked about belong to it. */
  public record Gate(Long creditLimit, Set<String> members) {
  }

  /** One consumption from an org's pool, by one member. */
  public record Spent(String operationId, String orgId, String userId, long credits) {
  }

  /** Writes the org's row (its account row must exist); true when it was created. */
  public Future<Boolean> upsert(SqlClient client, Upsert u, Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("orgId", u.orgId());
    p.put("accountId", Accounts.ofOrg(u.orgId()));
    p.put("name", u.name());
    p.put("setCreditLimit", u.setCreditLimit());
    p.put("creditLimit", u.creditLimit());
    p.put("now", sql(now));
    return Templates.forQuery(client, UPSERT).execute(p).map(rows -> rows.iterator().next().getBoolean("created"));
  }

  public Future<Optional<Org>> find(SqlClient client, String orgId) {
    return Templates.forQuery(client, GET).execute(Map.of("orgId", orgId))
        .map(rows -> first(rows).map(OrgStore::org));
  }

  public record SavedMember(OrgMember member, boolean created) {
  }

  public Future<SavedMember> putMember(SqlClient client, OrgMember m) {
    return Templates.forQuery(client, PUT_MEMBER).execute(Map.of("orgId", m.orgId(), "userId", m.userId(),
            "role", m.role().wire(), "now", sql(m.addedAt())))
        .map(rows -> {
          Row row = rows.iterator().next();
          return new SavedMember(member(row), row.getBoolean("created"));
        });
  }

  public Future<Optional<OrgMember>> deleteMember(SqlClient client, String orgId, String userId) {
    return Templates.forQuery(client, DELETE_MEMBER).execute(Map.of("orgId", orgId, "userId", userId))
        .map(rows -> first(rows).map(OrgStore::member));
  }

  public Future<List<OrgMember>> members(SqlClient client, String orgId) {
    return Templates.forQuery(client, MEMBERS).execute(Map.of("orgId", orgId)).map(rows -> {
      List<OrgMember> out = new ArrayList<>();
      rows.forEach(row -> out.add(member(row)));
      return out;
    });
  }

  /** The gates of the orgs {@code asked} names (org -> members asked about); orgs that do not exist are absent. */
  public Future<Map<String, Gate>> gates(SqlClient client, Map<String, Set<String>> asked) {
    List<String> orgIds = new ArrayList<>();
    List<String> userIds = new ArrayList<>();
    asked.forEach((org, users) -> users.forEach(user -> {
      orgIds.add(org);
      userIds.add(user);
    }));
    return Templates.forQuery(client, GATES)
        .execute(Map.of("orgIds", orgIds.toArray(String[]::new), "userIds", userIds.toArray(String[]::new)))
        .map(rows -> {
          Map<String, Long> limits = new HashMap<>();
          Map<String, Set<String>> members = new HashMap<>();
          rows.forEach(row -> {
            String org = row.getString("org_id");
            limits.put(org, row.getLong("credit_limit"));
            Set<String> in = members.computeIfAbsent(org, k -> new HashSet<>());
            if (row.getBoolean("member")) {
              in.add(row.getString("user_id"));
            }
          });
          Map<String, Gate> gates = new HashMap<>();
          members.forEach((org, in) -> gates.put(org, new Gate(limits.get(org), Set.copyOf(in))));
          return gates;
        });
  }

  public Future<Void> recordUsage(SqlClient client, Collection<Spent> spent, Instant now) {
    if (spent.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = spent.size();
    String[] operationIds = new String[n];
    String[] orgIds = new String[n];
    String[] userIds = new String[n];
    Long[] credits = new Long[n];
    int i = 0;
    for (Spent s : spent) {
      operationIds[i] = s.operationId();
      orgIds[i] = s.orgId();
      userIds[i] = s.userId();
      credits[i] = s.credits();
      i++;
    }
    Map<String, Object> p = new HashMap<>();
    p.put("operationIds", operationIds);
    p.put("orgIds", orgIds);
    p.put("userIds", userIds);
    p.put("credits", credits);
    p.put("now", sql(now));
    return Templates.forUpdate(client, RECORD_USAGE).execute(p).mapEmpty();
  }

  /** Credits each member consumed from the org's pool in [from, to). */
  public Future<OrgUsage> usage(SqlClient client, String orgId, Instant from, Instant to) {
    return Templates.forQuery(client, USAGE).execute(Map.of("orgId", orgId, "from", sql(from), "to", sql(to)))
        .map(rows -> {
          List<OrgUsage.Member> members = new ArrayList<>();
          rows.forEach(row -> members.add(new OrgUsage.Member(row.getString("user_id"), row.getLong("credits"))));
          return new OrgUsage(orgId, from, to, List.copyOf(members));
        });
  }

  private static Org org(Row row) {
    return new Org(row.getString("org_id"), row.getString("name"), row.getLong("credit_limit"),
        UserStore.toUser(row), row.getOffsetDateTime("org_created_at").toInstant(),
        row.getOffsetDateTime("org_updated_at").toInstant());
  }

  private static OrgMember member(Row row) {
    return new OrgMember(row.getString("org_id"), row.getString("user_id"),
        OrgMember.Role.fromWire(row.getString("role")), row.getOffsetDateTime("added_at").toInstant());
  }
}
