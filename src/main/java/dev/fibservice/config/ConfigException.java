package dev.fibservice.config;

/** A configuration value that cannot be used; the message is one line naming the key and what it accepts. */
public final class ConfigException extends RuntimeException {

  public ConfigException(String message) {
    super(message, null, false, false);
  }
}
