package io.edgecache.storage;

import java.util.Set;
import java.util.function.BiPredicate;

/**
 * Which entries a removal (or a soft purge's rewrite) applies to: a predicate on an entry's key
 * and tags. Exact keys are their own kind so that a store can find them without walking its
 * index; the other kinds are matched entry by entry.
 *
 * <p>Selectors are immutable values and {@link #matches} is a pure function, so a store may keep
 * one for a while and test entries that are written later against it (see {@code RemovalLog}).
 */
public sealed interface Selector {

  /** Whether an entry stored under {@code key} with {@code tags} is selected. */
  boolean matches(String key, Set<String> tags);

  /** Exactly these keys. */
  record Keys(Set<String> keys) implements Selector {
    public Keys {
      keys = Set.copyOf(keys);
    }

    @Override
    public boolean matches(String key, Set<String> tags) {
      return keys.contains(key);
    }
  }

  /** Every key that starts with {@code prefix}. */
  record Prefix(String prefix) implements Selector {
    @Override
    public boolean matches(String key, Set<String> tags) {
      return key.startsWith(prefix);
    }
  }

  /** Every entry carrying {@code tag}. */
  record Tagged(String tag) implements Selector {
    @Override
    public boolean matches(String key, Set<String> tags) {
      return tags.contains(tag);
    }
  }

  /** Every entry. */
  record All() implements Selector {
    @Override
    public boolean matches(String key, Set<String> tags) {
      return true;
    }
  }

  /** Every entry for which {@code test} holds; {@code test} must be pure and thread-safe. */
  record Where(BiPredicate<String, Set<String>> test) implements Selector {
    @Override
    public boolean matches(String key, Set<String> tags) {
      return test.test(key, tags);
    }
  }

  static Selector key(String key) {
    return new Keys(Set.of(key));
  }

  static Selector keys(Set<String> keys) {
    return new Keys(keys);
  }

  static Selector prefix(String prefix) {
    return new Prefix(prefix);
  }

  static Selector tagged(String tag) {
    return new Tagged(tag);
  }

  static Selector all() {
    return new All();
  }

  static Selector where(BiPredicate<String, Set<String>> test) {
    return new Where(test);
  }
}
