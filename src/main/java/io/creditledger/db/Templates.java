package io.creditledger.db;

import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.impl.SqlClientInternal;
import io.vertx.sqlclient.templates.SqlTemplate;
import io.vertx.sqlclient.templates.impl.SqlTemplateImpl;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;

/**
 * {@link SqlTemplate#forQuery} and {@link SqlTemplate#forUpdate}, with each template text parsed once. In
 * vertx-sql-client-templates 5.0 every call parses its template again (a regular expression over the whole text):
 * a tenth of the write path's CPU under load (bench/RESULTS.md). The parse and the mapping of the parameters are
 * still the library's; only its result is kept. Templates reusable across connections came in 5.1
 * ({@code SqlTemplate#withClient}, eclipse-vertx/vertx-sql-client#1614): with it, this class goes.
 */
public final class Templates {
  private static final ConcurrentMap<String, io.vertx.sqlclient.templates.impl.SqlTemplate> PARSED =
      new ConcurrentHashMap<>();

  private Templates() {
  }

  /** Like {@link SqlTemplate#forQuery}: the rows of the statement. */
  public static SqlTemplate<Map<String, Object>, RowSet<Row>> forQuery(SqlClient client, String template) {
    io.vertx.sqlclient.templates.impl.SqlTemplate parsed = parsed(client, template);
    return new SqlTemplateImpl<>((SqlClientInternal) client, parsed, Function.identity(), parsed::mapTuple);
  }

  /** Like {@link SqlTemplate#forUpdate}: the statement's row count, its rows dropped. */
  public static SqlTemplate<Map<String, Object>, SqlResult<Void>> forUpdate(SqlClient client, String template) {
    io.vertx.sqlclient.templates.impl.SqlTemplate parsed = parsed(client, template);
    return new SqlTemplateImpl<>((SqlClientInternal) client, parsed,
        query -> query.collecting(SqlTemplateImpl.NULL_COLLECTOR), parsed::mapTuple);
  }

  /** Every client here is PostgreSQL's, whose placeholders ($1, $2, ...) do not depend on the client. */
  private static io.vertx.sqlclient.templates.impl.SqlTemplate parsed(SqlClient client, String template) {
    return PARSED.computeIfAbsent(template,
        t -> io.vertx.sqlclient.templates.impl.SqlTemplate.create((SqlClientInternal) client, t));
  }
}
