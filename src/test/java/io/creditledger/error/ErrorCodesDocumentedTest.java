package io.creditledger.error;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's error table is the catalog: the same codes, each with the same status. */
class ErrorCodesDocumentedTest {
  private static final Pattern ROW = Pattern.compile("^\\| (\\d{3}) \\| `([a-z_]+)` \\|");

  @Test
  void theReadmeTableListsEveryCodeWithItsStatus() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    int start = readme.indexOf("### Error codes");
    assertThat(start).as("README section \"### Error codes\"").isNotNegative();
    int end = readme.indexOf("\n#", start + 1);
    Map<String, Integer> documented = new LinkedHashMap<>();
    for (String line : readme.substring(start, end < 0 ? readme.length() : end).split("\n")) {
      Matcher m = ROW.matcher(line);
      if (m.find()) {
        assertThat(documented.put(m.group(2), Integer.parseInt(m.group(1)))).as("listed twice: " + m.group(2)).isNull();
      }
    }
    Map<String, Integer> catalog = Arrays.stream(ErrorCode.values())
        .collect(Collectors.toMap(ErrorCode::wire, ErrorCode::status));
    assertThat(documented).containsExactlyInAnyOrderEntriesOf(catalog);
  }
}
