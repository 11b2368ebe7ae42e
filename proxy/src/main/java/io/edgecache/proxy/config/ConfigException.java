package io.edgecache.proxy.config;

/**
 * A configuration problem, reported as one line: {@code FILE: KEY: what is wrong}.
 * Expected failures: no stack trace is ever printed for it.
 */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message, null, false, false);
  }
}
