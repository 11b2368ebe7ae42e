package io.edgecache.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class QueryRuleTest {
  private static QueryRule drop(String... p) {
    return new QueryRule(QueryRule.Mode.DROP, List.of(p), false);
  }

  @Test
  void keepAll_leavesTheTargetByteForByte() {
    String t = "/a?b=1&&a=2&b=0";
    assertSame(t, QueryRule.KEEP_ALL.apply(t));
  }

  @Test
  void none_dropsTheQuery() {
    QueryRule none = new QueryRule(QueryRule.Mode.NONE, List.of(), false);
    assertEquals("/a", none.apply("/a?x=1"));
    assertEquals("/a", none.apply("/a?"));
    assertEquals("/a", none.apply("/a"));
  }

  @Test
  void drop_globsAndExactNames() {
    QueryRule r = drop("utm_*", "fbclid");
    assertEquals("/p?id=7", r.apply("/p?utm_source=x&id=7&fbclid=1&utm_=2"));
    assertEquals("/p", r.apply("/p?utm_source=x"));
    assertEquals("/p?fbclid2=1", r.apply("/p?fbclid2=1"), "exact names match exactly");
    assertEquals("/p?UTM_source=1", r.apply("/p?UTM_source=1"), "names are case-sensitive");
  }

  @Test
  void keep_onlyListed_valueLessParamsToo() {
    QueryRule r = new QueryRule(QueryRule.Mode.KEEP, List.of("q", "page"), false);
    assertEquals("/s?q=a&page=2", r.apply("/s?x=1&q=a&sid=2&page=2"));
    assertEquals("/s?q", r.apply("/s?q&x"));
  }

  @Test
  void sort_isStableForRepeatedNames() {
    QueryRule r = new QueryRule(QueryRule.Mode.ALL, List.of(), true);
    assertEquals("/s?a=2&a=1&b=0", r.apply("/s?b=0&a=2&a=1"));
    assertEquals("/s?a=1", r.apply("/s?&a=1&"), "empty parameters dropped once the query is rewritten");
  }

  @Test
  void glob_semantics() {
    assertTrue(QueryRule.glob("*", 0, "", 0));
    assertTrue(QueryRule.glob("a*c", 0, "abbbc", 0));
    assertTrue(QueryRule.glob("a**", 0, "a", 0));
    assertFalse(QueryRule.glob("a*c", 0, "abcd", 0));
    assertTrue(QueryRule.glob("*_id", 0, "user_id", 0));
    assertFalse(QueryRule.glob("ab", 0, "a", 0));
  }
}
