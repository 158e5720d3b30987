package io.creditledger.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The HTTP API's contract, {@code openapi.yaml} (OpenAPI 3.1) in the source tree, as the JSON that
 * {@code GET /openapi.json} serves: read from the classpath and encoded once.
 */
public final class OpenApiDocument {
  /** Where the document lies on the classpath (and under src/main/resources). */
  public static final String RESOURCE = "openapi.yaml";

  private OpenApiDocument() {
  }

  /** The document as JSON; YAML's safe subset only (no tags, no custom types). */
  public static JsonObject read() {
    try (InputStream in = OpenApiDocument.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is not on the classpath");
      }
      Map<String, Object> yaml = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
      // through text, so nested maps and lists become JsonObjects and JsonArrays
      return new JsonObject(new JsonObject(yaml).encode());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The document encoded once, for every request. */
  static Buffer encoded() {
    return read().toBuffer();
  }
}
