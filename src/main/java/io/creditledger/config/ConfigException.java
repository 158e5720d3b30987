package io.creditledger.config;

/** A setting has a value the service cannot run with. The message names the setting and is fit to print as is. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  static ConfigException invalid(String setting, String why) {
    return new ConfigException("Invalid setting " + setting + ": " + why);
  }
}
