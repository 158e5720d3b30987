package io.creditledger.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * One JDBC connection to a test database, for tests and tools that inspect or damage the data behind the service's
 * back. Parameters bind to the statement's {@code ?} placeholders (without parameters a statement is sent as it is,
 * so a {@code ?} in it is no placeholder); a failure is an {@link IllegalStateException} carrying PostgreSQL's
 * message. Open one with {@link TestApp#db()} or {@link TestDatabase#open}.
 */
public final class SqlSession implements AutoCloseable {
  private final Connection connection;

  SqlSession(Connection connection) {
    this.connection = connection;
  }

  /** Runs a statement (in autocommit mode unless the connection was told otherwise). */
  public void execute(String statement, Object... params) {
    try {
      if (params.length == 0) {
        try (Statement s = connection.createStatement()) {
          s.execute(statement);
        }
      } else {
        try (PreparedStatement s = prepare(statement, params)) {
          s.execute();
        }
      }
    } catch (SQLException e) {
      throw failure(statement, e);
    }
  }

  /** Every row of {@code query}. */
  public List<Row> rows(String query, Object... params) {
    try {
      if (params.length == 0) {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(query)) {
          return read(rs);
        }
      }
      try (PreparedStatement s = prepare(query, params); ResultSet rs = s.executeQuery()) {
        return read(rs);
      }
    } catch (SQLException e) {
      throw failure(query, e);
    }
  }

  /** The first column of every row of {@code query}, as text. */
  public List<String> texts(String query, Object... params) {
    return rows(query, params).stream().map(r -> r.text(1)).toList();
  }

  /** The first column of the first row of {@code query} as text, or null when there is no row. */
  public String text(String query, Object... params) {
    List<Row> rows = rows(query, params);
    return rows.isEmpty() ? null : rows.get(0).text(1);
  }

  /** The first column of the first row of {@code query} as a number. */
  public long number(String query, Object... params) {
    return Long.parseLong(text(query, params));
  }

  /** Whether the public schema holds {@code table} (a check may run on a database the migrations never reached). */
  public boolean hasTable(String table) {
    return text("SELECT to_regclass(?)::text", "public." + table) != null;
  }

  /** The connection itself, for what the helpers above do not cover (a lock held in a transaction, a batch). */
  public Connection connection() {
    return connection;
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<Row> read(ResultSet rs) throws SQLException {
    ResultSetMetaData meta = rs.getMetaData();
    List<String> labels = new ArrayList<>();
    for (int i = 1; i <= meta.getColumnCount(); i++) {
      labels.add(meta.getColumnLabel(i));
    }
    List<Row> rows = new ArrayList<>();
    while (rs.next()) {
      List<String> values = new ArrayList<>();
      for (int i = 1; i <= labels.size(); i++) {
        values.add(rs.getString(i));
      }
      rows.add(new Row(labels, values));
    }
    return rows;
  }

  private PreparedStatement prepare(String sql, Object... params) throws SQLException {
    PreparedStatement s = connection.prepareStatement(sql);
    try {
      for (int i = 0; i < params.length; i++) {
        s.setObject(i + 1, params[i]);
      }
      return s;
    } catch (SQLException e) {
      s.close();
      throw e;
    }
  }

  private static IllegalStateException failure(String sql, SQLException e) {
    return new IllegalStateException(e.getMessage() + " (in: " + sql + ")", e);
  }

  /** One row, each column as PostgreSQL writes it in text; columns count from 1, as in JDBC. */
  public record Row(List<String> labels, List<String> values) {
    public String text(int column) {
      return values.get(column - 1);
    }

    public String text(String label) {
      int i = labels.indexOf(label);
      if (i < 0) {
        throw new IllegalArgumentException("no column " + label + " in " + labels);
      }
      return values.get(i);
    }

    public long number(int column) {
      return Long.parseLong(text(column));
    }

    /** A boolean column: PostgreSQL writes {@code t}, the driver {@code true} once it reads the column in binary. */
    public boolean flag(int column) {
      return "t".equals(text(column)) || "true".equals(text(column));
    }
  }
}
