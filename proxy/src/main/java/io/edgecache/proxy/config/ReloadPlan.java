package io.edgecache.proxy.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a reload would do with a newly read configuration: the top-level sections it applies while
 * running, those that differ but need a restart, and which origins it adds, removes or changes.
 * One comparison serves {@code POST /reload} (which acts on it) and the status page's preview
 * (which only shows it), so the preview cannot promise what the reload then does differently.
 *
 * <p>Pure: no I/O, no clock. {@code started} is the configuration the process started with: the
 * traffic listener's port and TLS settings are compared with it, because the running
 * configuration carries the port actually bound (a configured 0 becomes a real port).
 *
 * @param applied sections that differ and a reload applies (origins, cache, purge, accessLog)
 * @param restartNeeded sections that differ and stay as they are until a restart
 * @param originsAdded origin names only the new file has
 * @param originsRemoved origin names only the running configuration has
 * @param originsChanged origin names in both whose settings differ
 */
public record ReloadPlan(List<String> applied, List<String> restartNeeded, List<String> originsAdded,
    List<String> originsRemoved, List<String> originsChanged) {

  public ReloadPlan {
    applied = List.copyOf(applied);
    restartNeeded = List.copyOf(restartNeeded);
    originsAdded = List.copyOf(originsAdded);
    originsRemoved = List.copyOf(originsRemoved);
    originsChanged = List.copyOf(originsChanged);
  }

  /** Compares {@code next} (read from the file) with what runs; see the class comment for {@code started}. */
  public static ReloadPlan between(ProxyConfig started, ProxyConfig running, ProxyConfig next) {
    List<String> restart = new ArrayList<>();
    ProxyConfig.Listen nl = next.listen();
    if (!nl.host().equals(running.listen().host()) || nl.port() != started.listen().port()
        || nl.eventLoops() != running.listen().eventLoops() || nl.plain() != started.listen().plain()
        || nl.transport() != started.listen().transport()
        || !Objects.equals(nl.tls(), started.listen().tls())) {
      restart.add("listen");
    }
    restartIfChanged(restart, "admin", running.admin(), next.admin());
    restartIfChanged(restart, "memory", running.memory(), next.memory());
    restartIfChanged(restart, "disk", running.disk(), next.disk());
    restartIfChanged(restart, "limits", running.limits(), next.limits());
    restartIfChanged(restart, "upstream", running.upstream(), next.upstream());
    restartIfChanged(restart, "shutdown", running.shutdown(), next.shutdown());
    restartIfChanged(restart, "cluster", running.cluster(), next.cluster());
    List<String> applied = new ArrayList<>();
    if (!running.origins().equals(next.origins())) {
      applied.add("origins");
    }
    if (!running.cache().equals(next.cache())) {
      applied.add("cache");
    }
    if (!running.purge().equals(next.purge())) {
      applied.add("purge");
    }
    if (!running.accessLog().equals(next.accessLog())) {
      applied.add("accessLog");
    }
    Map<String, ProxyConfig.Origin> before = byName(running.origins());
    Map<String, ProxyConfig.Origin> after = byName(next.origins());
    List<String> added = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    for (Map.Entry<String, ProxyConfig.Origin> e : after.entrySet()) {
      ProxyConfig.Origin old = before.get(e.getKey());
      if (old == null) {
        added.add(e.getKey());
      } else if (!old.equals(e.getValue())) {
        changed.add(e.getKey());
      }
    }
    List<String> removed = new ArrayList<>();
    for (String name : before.keySet()) {
      if (!after.containsKey(name)) {
        removed.add(name);
      }
    }
    return new ReloadPlan(applied, restart, added, removed, changed);
  }

  /** Whether the file on disk matches what runs (nothing to apply, nothing waiting for a restart). */
  public boolean unchanged() {
    return applied.isEmpty() && restartNeeded.isEmpty();
  }

  private static void restartIfChanged(List<String> restart, String section, Object running, Object next) {
    if (!running.equals(next)) {
      restart.add(section);
    }
  }

  private static Map<String, ProxyConfig.Origin> byName(List<ProxyConfig.Origin> origins) {
    Map<String, ProxyConfig.Origin> out = new LinkedHashMap<>();
    for (ProxyConfig.Origin o : origins) {
      out.put(o.name(), o);
    }
    return out;
  }
}
