package io.edgecache.proxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Rendezvous hashing: even spread, and a membership change moves about 1/N of the keys, only those it must. */
class RendezvousTest {
  private static final int KEYS = 100_000;

  private static List<String> members(int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(new UUID(0x5eed_0000L + i, 0x1234_5678L * (i + 1)).toString());
    }
    return ids;
  }

  private static String key(int i) {
    return "http://edge.test/assets/" + i + ".js";
  }

  @Test
  void owner_overManyKeys_spreadsEvenly() {
    List<String> ids = members(5);
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < KEYS; i++) {
      counts.merge(Rendezvous.owner(key(i), ids), 1, Integer::sum);
    }
    for (String id : ids) {
      double share = counts.getOrDefault(id, 0) / (double) KEYS;
      assertTrue(Math.abs(share - 0.2) < 0.01, id + " owns " + share);
    }
  }

  @Test
  void owner_whenOneOfNMembersLeaves_movesOnlyItsKeysAboutOneNth() {
    for (int n : new int[] {3, 5, 8}) {
      List<String> before = members(n);
      List<String> after = new ArrayList<>(before);
      String gone = after.remove(n / 2);
      int moved = 0;
      for (int i = 0; i < KEYS; i++) {
        String was = Rendezvous.owner(key(i), before);
        String now = Rendezvous.owner(key(i), after);
        if (!was.equals(now)) {
          moved++;
          assertEquals(gone, was, "only keys of the member that left move");
        }
      }
      double share = moved / (double) KEYS;
      assertTrue(Math.abs(share - 1.0 / n) < 0.01, n + " members: " + share + " of the keys moved");
    }
  }

  @Test
  void owner_whenAMemberJoins_movesAboutOneNthToIt() {
    List<String> before = members(4);
    List<String> after = members(5);
    int moved = 0;
    for (int i = 0; i < KEYS; i++) {
      String now = Rendezvous.owner(key(i), after);
      if (!Rendezvous.owner(key(i), before).equals(now)) {
        moved++;
        assertEquals(after.get(4), now, "keys move only to the member that joined");
      }
    }
    assertTrue(Math.abs(moved / (double) KEYS - 0.2) < 0.01, moved + " moved");
  }

  @Test
  void owner_isTheSameWhateverTheOrderOfMembers() {
    List<String> ids = members(6);
    List<String> reversed = new ArrayList<>(ids);
    java.util.Collections.reverse(reversed);
    for (int i = 0; i < 1000; i++) {
      assertEquals(Rendezvous.owner(key(i), ids), Rendezvous.owner(key(i), reversed));
    }
  }

  @Test
  void owner_ofNoMembers_isNull() {
    assertNull(Rendezvous.owner("k", List.of()));
  }
}
