package io.creditledger;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A user's clone has nothing beside it: no file the build, the tests, the benchmark, the drill or CI run may
 * reach for the development checkout's neighbouring {@code shared} folder. What tests need from there (Stripe's
 * fixtures) is vendored under {@code src/test/resources}.
 */
class SelfContainedCloneTest {
  /** The shared folder named relative to the checkout or absolutely; split so this file does not match itself. */
  private static final Pattern OUTSIDE = Pattern.compile("(\\.\\./|/work/)" + "shared\\b");
  private static final List<String> CHECKED = List.of("src", "bench", "drill", ".ci", "conf", "db", "pom.xml");

  @Test
  void nothingInTheRepositoryReadsOutsideIt() throws IOException {
    List<String> offenders = new ArrayList<>();
    for (String top : CHECKED) {
      Path root = Path.of(top);
      if (!Files.exists(root)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(root)) {
        files.filter(Files::isRegularFile).forEach(file -> {
          String text = read(file);
          if (text != null && OUTSIDE.matcher(text).find()) {
            offenders.add(file.toString());
          }
        });
      }
    }
    assertThat(offenders).as("files that refer to the shared folder beside the checkout").isEmpty();
  }

  @Test
  void theGuardRecognisesAReferenceToTheSharedFolder() {
    assertThat(OUTSIDE.matcher("Path.of(\"../" + "shared/stripe/fixtures.json\")").find()).isTrue();
    assertThat(OUTSIDE.matcher("src/test/resources/stripe/fixtures.json").find()).isFalse();
  }

  /** The file's text, or null for binary files. */
  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (MalformedInputException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
