package io.creditledger.db;

import io.creditledger.config.DatabaseUrl;
import liquibase.Contexts;
import liquibase.LabelExpression;
import liquibase.Liquibase;
import liquibase.Scope;
import liquibase.UpdateSummaryOutputEnum;
import liquibase.changelog.ChangeSet;
import liquibase.command.CommandScope;
import liquibase.command.core.UpdateCommandStep;
import liquibase.command.core.UpdateCountCommandStep;
import liquibase.command.core.helpers.DbUrlConnectionArgumentsCommandStep;
import liquibase.command.core.helpers.ShowSummaryArgument;
import liquibase.database.jvm.JdbcConnection;
import liquibase.exception.CommandExecutionException;
import liquibase.exception.LiquibaseException;
import liquibase.resource.DirectoryResourceAccessor;
import liquibase.resource.ResourceAccessor;
import liquibase.resource.ZipResourceAccessor;
import liquibase.ui.LoggerUIService;

import java.io.OutputStream;
import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;

/**
 * The Liquibase changelog in {@code db/} (packaged into the jar). JDBC is used here and nowhere else.
 * Blocking: run it on a worker thread. Liquibase's lock table makes concurrent runs from several instances safe.
 */
public final class Migrations {
  public static final String CHANGELOG = "db/changelog.xml";

  static {
    java.util.logging.Logger.getLogger("liquibase").setLevel(java.util.logging.Level.WARNING);
  }

  private Migrations() {
  }

  /** Applies every pending changeset; returns the number of changesets the changelog defines. */
  public static int apply(DatabaseUrl url) {
    return run(url, liquibase -> {
      try {
        new CommandScope(UpdateCommandStep.COMMAND_NAME)
            .addArgumentValue(DbUrlConnectionArgumentsCommandStep.DATABASE_ARG, liquibase.getDatabase())
            .addArgumentValue(UpdateCommandStep.CHANGELOG_FILE_ARG, CHANGELOG)
            .addArgumentValue(ShowSummaryArgument.SHOW_SUMMARY_OUTPUT, UpdateSummaryOutputEnum.LOG)
            .setOutput(OutputStream.nullOutputStream())
            .execute();
      } catch (CommandExecutionException e) {
        throw new LiquibaseException(e.getMessage(), e);
      }
      return liquibase.getDatabaseChangeLog().getChangeSets().size();
    });
  }

  /**
   * Applies only the first {@code count} pending changesets: an upgrade test fills a database at an older schema
   * and then applies the rest.
   */
  public static void applyFirst(DatabaseUrl url, int count) {
    run(url, liquibase -> {
      try {
        new CommandScope(UpdateCountCommandStep.COMMAND_NAME)
            .addArgumentValue(DbUrlConnectionArgumentsCommandStep.DATABASE_ARG, liquibase.getDatabase())
            .addArgumentValue(UpdateCountCommandStep.CHANGELOG_FILE_ARG, CHANGELOG)
            .addArgumentValue(UpdateCountCommandStep.COUNT_ARG, count)
            .setOutput(OutputStream.nullOutputStream())
            .execute();
      } catch (CommandExecutionException e) {
        throw new LiquibaseException(e.getMessage(), e);
      }
      return null;
    });
  }

  /** The changesets not yet applied, as {@code path::id::author}. */
  public static List<String> pending(DatabaseUrl url) {
    return run(url, liquibase -> liquibase.listUnrunChangeSets(new Contexts(), new LabelExpression()).stream()
        .map(ChangeSet::toString)
        .toList());
  }

  private interface Work<T> {
    T run(Liquibase liquibase) throws LiquibaseException;
  }

  private static <T> T run(DatabaseUrl url, Work<T> work) {
    try {
      // Changelogs are read from where this build's changelog lies (the jar, or target/classes) and nowhere
      // else, so a checkout's db/ in the working directory is never a second copy; Liquibase reports through
      // the log instead of printing to standard output.
      return Scope.child(Map.of(
          Scope.Attr.resourceAccessor.name(), changelogRoot(),
          Scope.Attr.ui.name(), new LoggerUIService()), () -> runInScope(url, work));
    } catch (IllegalStateException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("Migrations failed on " + url.redacted() + ": " + e.getMessage(), e);
    }
  }

  private static ResourceAccessor changelogRoot() throws Exception {
    URL changelog = Migrations.class.getClassLoader().getResource(CHANGELOG);
    if (changelog == null) {
      throw new IllegalStateException(CHANGELOG + " is not on the classpath");
    }
    String location = changelog.toString();
    if (location.startsWith("jar:")) {
      return new ZipResourceAccessor(Path.of(URI.create(location.substring(4, location.indexOf("!/")))));
    }
    return new DirectoryResourceAccessor(Path.of(changelog.toURI()).getParent().getParent());
  }

  private static <T> T runInScope(DatabaseUrl url, Work<T> work) {
    try (Connection connection = DriverManager.getConnection(url.jdbcUrl(), url.jdbcProperties());
         Liquibase liquibase = new Liquibase(CHANGELOG, Scope.getCurrentScope().getResourceAccessor(),
             new JdbcConnection(connection))) {
      return work.run(liquibase);
    } catch (Exception e) {
      throw new IllegalStateException("Migrations failed on " + url.redacted() + ": " + e.getMessage(), e);
    }
  }
}
