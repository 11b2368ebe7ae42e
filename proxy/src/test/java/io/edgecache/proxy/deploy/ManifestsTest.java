package io.edgecache.proxy.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ConfigLoader;
import io.edgecache.proxy.config.HeapBudget;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.config.Units;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LifecycleHandler;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.CrossVersionObjectReference;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The deployment in {@code k8s/} checked against the code and the image it runs: the ConfigMap's
 * {@code proxy.json} goes through the real {@link ConfigLoader}, and the ports, probes, user,
 * mounts and shutdown timing of the StatefulSet, Services, HPA and PDB must agree with that
 * configuration and with the {@code Dockerfile}. The {@code cluster} section must agree with the
 * discovery Service, the container ports, the Secret reference and the NetworkPolicy that keeps
 * the cluster ports private. Maven runs tests in {@code proxy/}, so the repository root is
 * {@code ..}. Nothing here needs a cluster or Docker.
 */
class ManifestsTest {
  private static final Path ROOT = Path.of("..");
  private static final String CONFIG_SOURCE = "k8s/configmap.yaml#proxy.json";
  private static final String CONFIG_KEY = "proxy.json";

  /**
   * Seconds the grace period must keep beyond preStop + drain: after the drain Vert.x closes and
   * the stores close (the disk tier closes LevelDB); {@code Main}'s shutdown hook allows
   * {@code server.stop()} drainTimeout + 10 s for all of it. The kubelet sends SIGKILL when the
   * grace period, which starts with preStop, runs out.
   */
  private static final long SHUTDOWN_MARGIN_SECONDS = 10;

  /**
   * Largest share of the heap the memory tier may take: it keeps bodies on the heap, and the
   * rest is needed for in-flight fills (up to maxObjectBytes each), request buffers and GC room.
   */
  private static final double MEMORY_TIER_MAX_HEAP_SHARE = 0.5;

  /** Room a disk-tier volume claim needs beyond disk.maxBytes: filesystem and LevelDB log/compaction. */
  private static final double DISK_CLAIM_HEADROOM = 1.1;

  private static final Pattern ENV_REF = Pattern.compile("\"env:([A-Za-z_][A-Za-z0-9_]*)\"");

  /** A pod IP to stand in for the downward API's status.podIP when env values are expanded. */
  private static final String EXAMPLE_POD_IP = "10.244.1.7";

  /** Container port names of the cluster endpoints (Service, NetworkPolicy and README use them). */
  private static final String HAZELCAST_PORT_NAME = "hazelcast";
  private static final String EVENTBUS_PORT_NAME = "eventbus";

  private static Manifests k8s;
  private static Dockerfile dockerfile;

  @BeforeAll
  static void load() {
    k8s = Manifests.load(ROOT.resolve("k8s"));
    dockerfile = Dockerfile.read(ROOT.resolve("Dockerfile"));
  }

  // ---------------------------------------------------------------- the manifests themselves

  @Test
  void manifests_parseIntoTheKubernetesModel_oneOfEachWorkloadKind() {
    assertNotNull(k8s.only(ConfigMap.class));
    assertNotNull(k8s.only(StatefulSet.class));
    assertNotNull(k8s.only(HorizontalPodAutoscaler.class));
    assertNotNull(k8s.only(PodDisruptionBudget.class));
    assertNotNull(k8s.only(NetworkPolicy.class));
    assertFalse(k8s.all(Service.class).isEmpty(), "k8s/: no Service");
  }

  @Test
  void strictReader_misspelledField_isRejectedWithItsPath() {
    String yaml = """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: x}
        spec:
          template:
            spec:
              containers:
                - name: x
                  readinesProbe: {httpGet: {path: /readyz, port: 9090}}
        """;

    AssertionError e = assertThrows(AssertionError.class, () -> Manifests.parse("typo.yaml", yaml));

    assertTrue(e.getMessage().startsWith("typo.yaml: spec.template.spec.containers[0].readinesProbe: unknown field"),
        e::getMessage);
  }

  @Test
  void kustomization_listsEveryManifestOfTheFolder() {
    JsonNode kustomization = k8s.kustomization();
    assertNotNull(kustomization, "k8s/" + Manifests.KUSTOMIZATION + ": missing");
    Set<String> listed = new TreeSet<>();
    kustomization.path("resources").forEach(r -> listed.add(r.asText()));
    Set<String> present = new TreeSet<>(k8s.files());
    present.remove(Manifests.KUSTOMIZATION);

    assertEquals(present, listed, "k8s/kustomization.yaml: resources (expected: every manifest in k8s/)");
  }

  @Test
  void imageTag_agreesAcrossStatefulSetKustomizationAndDockerfileLabel() {
    String image = container().getImage();
    String repository = image.substring(0, image.lastIndexOf(':'));
    String tag = image.substring(image.lastIndexOf(':') + 1);
    JsonNode override = null;
    for (JsonNode i : k8s.kustomization().path("images")) {
      if (i.path("name").asText().equals(repository)) {
        override = i;
      }
    }
    Matcher label = Pattern.compile("org\\.opencontainers\\.image\\.version=\"([^\"]+)\"")
        .matcher(String.join(" ", dockerfile.args("LABEL")));

    assertNotNull(override, "k8s/kustomization.yaml: images (expected: an entry named \"" + repository + "\")");
    assertEquals(tag, override.path("newTag").asText(), "k8s/kustomization.yaml: images[" + repository + "].newTag");
    assertTrue(label.find(), "Dockerfile: LABEL org.opencontainers.image.version missing");
    assertEquals(tag, label.group(1), "Dockerfile: LABEL org.opencontainers.image.version vs image " + image);
  }

  // ---------------------------------------------------------------- proxy.json and the config loader

  @Test
  void configMapProxyJson_passesTheConfigLoader() {
    ConfigLoader.parse(CONFIG_SOURCE, resolvedProxyJson());
  }

  /**
   * The {@code cluster} section, with every {@code "env:NAME"} replaced by what the container env
   * gives it in a pod ({@code $(POD_IP)} expanded, Secrets as placeholders), as the loader reads it.
   */
  @Test
  void configMapClusterSection_resolvedAsInAPod_bindsThePodIpAndFindsMembersThroughTheService() {
    ProxyConfig.Cluster cluster = ConfigLoader.parse(CONFIG_SOURCE, resolvedProxyJson()).cluster();
    JsonObject kube = cluster().getJsonObject("kubernetes");

    assertTrue(cluster.enabled(), CONFIG_SOURCE + ": cluster.enabled");
    assertEquals(EXAMPLE_POD_IP, cluster.bindHost(), CONFIG_SOURCE + ": cluster.bind host in a pod");
    assertTrue(cluster.members().isEmpty(), CONFIG_SOURCE + ": cluster.members (expected: none; kubernetes discovery)");
    assertEquals(clusterServiceName() + "." + kube.getString("namespace", "default") + ".svc.cluster.local",
        cluster.kubernetesDns(), CONFIG_SOURCE + ": cluster.kubernetes as a DNS name");
    assertTrue(cluster.advertiseUrl() == null
        || cluster.advertiseUrl().equals("http://" + EXAMPLE_POD_IP + ":" + config().listen().port()),
        CONFIG_SOURCE + ": cluster.advertiseUrl: " + cluster.advertiseUrl() + " (expected: unset, or the pod IP and listen.port)");
  }

  /**
   * {@code cluster.bind} is {@code "env:NAME"} in the ConfigMap (the pod IP is only known in the
   * pod), so the loader must read that key from the environment, as it does for tokens: an unset
   * variable is then reported as such, not as a malformed host:port.
   */
  @Test
  void clusterBind_envReference_isReadFromTheEnvironmentByTheLoader() {
    JsonObject json = new JsonObject(resolvedProxyJson());
    json.getJsonObject("cluster").put("bind", "env:EDGECACHE_MANIFESTS_TEST_UNSET_VARIABLE");

    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(CONFIG_SOURCE, json.encode()));

    assertTrue(e.getMessage().contains("cluster.bind") && e.getMessage().contains("EDGECACHE_MANIFESTS_TEST_UNSET_VARIABLE"),
        () -> "cluster.bind \"env:NAME\" with NAME unset: " + e.getMessage()
            + " (expected: the loader reads env:NAME for cluster.bind and names the missing variable)");
  }

  @Test
  void configMapProxyJson_everySectionButDisk_passesTheConfigLoader() {
    ProxyConfig config = config();

    assertEquals(CONFIG_SOURCE, config.source());
  }

  @Test
  void configMapTokens_fromTheEnvironment_areSetOnTheContainer() {
    Set<String> env = new TreeSet<>();
    for (EnvVar v : container().getEnv()) {
      env.add(v.getName());
    }
    Matcher m = ENV_REF.matcher(proxyJson());
    while (m.find()) {
      assertTrue(env.contains(m.group(1)), CONFIG_SOURCE + ": \"env:" + m.group(1)
          + "\" (expected: container env " + m.group(1) + ", e.g. from a Secret; the loader refuses to start without it)");
    }
  }

  @Test
  void listeners_bindAllInterfaces_soServicesAndProbesReachThem() {
    ProxyConfig config = config();

    assertTrue(isWildcard(config.listen().host()), CONFIG_SOURCE + ": listen.host: " + config.listen().host()
        + " (expected: 0.0.0.0 or ::, Services reach the pod by its IP)");
    assertTrue(isWildcard(config.admin().host()), CONFIG_SOURCE + ": admin.host: " + config.admin().host()
        + " (expected: 0.0.0.0 or ::, the kubelet probes and Prometheus scrapes the pod IP)");
  }

  // ---------------------------------------------------------------- the admin API

  @Test
  void adminToken_isSetInTheConfigMap_fromTheEnvironment() {
    Object token = new JsonObject(proxyJson()).getJsonObject("admin", new JsonObject()).getValue("token");

    assertTrue(token instanceof String t && ENV_REF.matcher("\"" + t + "\"").matches(), CONFIG_SOURCE + ": admin.token: " + token
        + " (expected: \"env:NAME\" filled from a Secret; without a token every pod in the cluster can purge all and reload)");
  }

  @Test
  void adminTokenEnv_comesFromARequiredSecretKey_neverALiteral() {
    assertSecretEnv(adminTokenEnvName(), "admin.token");
  }

  @Test
  void noSecretManifest_isShipped() {
    for (String file : k8s.files()) {
      String text = Manifests.read(ROOT.resolve("k8s").resolve(file));

      assertFalse(Pattern.compile("(?m)^kind:\\s*Secret\\s*$").matcher(text).find(), "k8s/" + file
          + ": a Secret (expected: none shipped; a token in the repository would be the same in every cluster, "
          + "operators create it with kubectl create secret)");
    }
  }

  @Test
  void servicesWithAVirtualIp_doNotExposeTheAdminPort() {
    int admin = config().admin().port();
    for (Service s : k8s.all(Service.class)) {
      if ("None".equals(s.getSpec().getClusterIP())) {
        continue; // headless: per-pod DNS names only, no load-balanced address
      }
      for (ServicePort p : s.getSpec().getPorts()) {
        IntOrString target = p.getTargetPort() != null ? p.getTargetPort() : new IntOrString(p.getPort());
        String where = "Service " + s.getMetadata().getName() + " port " + p.getName();

        assertNotEquals(admin, containerPort(target, where + " targetPort"), where
            + " reaches admin.port (expected: only listen.port behind a Service address; purge all and reload stay off it)");
      }
    }
  }

  @Test
  void prometheusScrapeAnnotation_isAbsent_becauseMetricsNeedTheAdminToken() {
    Map<String, String> a = statefulSet().getSpec().getTemplate().getMetadata().getAnnotations();

    assertFalse(a != null && "true".equals(a.get("prometheus.io/scrape")), "pod annotation prometheus.io/scrape "
        + "(expected: absent; /metrics needs the admin token, which the generic annotation job would not send, "
        + "or would send to every annotated pod: scrape with a job of its own, README \"Containers\")");
  }

  // ---------------------------------------------------------------- ports and probes

  @Test
  void configuredPorts_equalTheNamedContainerPorts() {
    ProxyConfig config = config();

    assertEquals(config.listen().port(), containerPort(new IntOrString("http"), "container port \"http\""),
        "listen.port vs container port \"http\"");
    assertEquals(config.admin().port(), containerPort(new IntOrString("admin"), "container port \"admin\""),
        "admin.port vs container port \"admin\"");
  }

  @Test
  void services_targetTheConfiguredListeners() {
    ProxyConfig config = config();
    Set<Integer> targeted = new TreeSet<>();
    for (Service s : k8s.all(Service.class)) {
      if (s.getMetadata().getName().equals(clusterServiceName())) {
        continue; // the cluster endpoints: clusterService_* below
      }
      for (ServicePort p : s.getSpec().getPorts()) {
        IntOrString target = p.getTargetPort() != null ? p.getTargetPort() : new IntOrString(p.getPort());
        String where = "Service " + s.getMetadata().getName() + " port " + p.getName() + " targetPort";
        int port = containerPort(target, where);
        assertTrue(port == config.listen().port() || port == config.admin().port(),
            where + ": " + port + " (expected: listen.port " + config.listen().port() + " or admin.port " + config.admin().port() + ")");
        targeted.add(port);
      }
    }

    assertEquals(config.listen().port(), containerPort(k8s.service("edgecache").getSpec().getPorts().get(0).getTargetPort(),
        "Service edgecache targetPort"), "Service edgecache must send traffic to listen.port");
    assertEquals(config.admin().port(), containerPort(k8s.service("edgecache-admin").getSpec().getPorts().get(0).getTargetPort(),
        "Service edgecache-admin targetPort"), "Service edgecache-admin must reach admin.port");
    assertEquals(new TreeSet<>(List.of(config.listen().port(), config.admin().port())), targeted,
        "ports the Services reach (expected: both listeners)");
  }

  @Test
  void readinessProbe_getsReadyzOnTheAdminPort() {
    assertHttpProbe("readinessProbe", container().getReadinessProbe(), "/readyz");
  }

  @Test
  void livenessProbe_getsHealthzOnTheAdminPort() {
    assertHttpProbe("livenessProbe", container().getLivenessProbe(), "/healthz");
  }

  @Test
  void startupProbe_ifPresent_getsHealthzOnTheAdminPort() {
    Probe startup = container().getStartupProbe();
    Assumptions.assumeTrue(startup != null, "no startupProbe");

    assertHttpProbe("startupProbe", startup, "/healthz");
  }

  @Test
  void dockerHealthcheck_getsHealthzOnTheAdminPortOfBothConfigs() {
    String check = dockerfile.healthcheck().orElseThrow(() -> new AssertionError("Dockerfile: no HEALTHCHECK"));
    Map<String, String> imageEnv = dockerfile.env();
    Map<String, String> podEnv = new HashMap<>(imageEnv);
    for (EnvVar v : container().getEnv()) {
      if (v.getValue() != null) {
        podEnv.put(v.getName(), v.getValue());
      }
    }
    int imageAdminPort = new JsonObject(Manifests.read(ROOT.resolve("conf/proxy.json")))
        .getJsonObject("admin", new JsonObject()).getInteger("port", 9090);

    assertTrue(check.contains("GET /healthz "), "Dockerfile: HEALTHCHECK (expected: GET /healthz): " + check);
    assertEquals(imageAdminPort, healthcheckPort(Dockerfile.expand(check, imageEnv)),
        "Dockerfile: HEALTHCHECK port vs conf/proxy.json admin.port (the image's default config)");
    assertEquals(config().admin().port(), healthcheckPort(Dockerfile.expand(check, podEnv)),
        "Dockerfile: HEALTHCHECK port vs " + CONFIG_SOURCE + " admin.port (expected: equal, or container env EDGECACHE_ADMIN_PORT)");
  }

  @Test
  void dockerExpose_listsBothConfiguredPorts() {
    ProxyConfig config = config();

    assertTrue(dockerfile.exposedPorts().containsAll(List.of(config.listen().port(), config.admin().port())),
        "Dockerfile: EXPOSE " + dockerfile.exposedPorts() + " (expected: " + config.listen().port() + " and " + config.admin().port() + ")");
  }

  @Test
  void dockerExpose_listsTheClusterPorts() {
    assertTrue(dockerfile.exposedPorts().containsAll(List.of(clusterBindPort(), clusterEventBusPort())),
        "Dockerfile: EXPOSE " + dockerfile.exposedPorts() + " (expected: " + CONFIG_SOURCE + " cluster.bind port "
            + clusterBindPort() + " and cluster.eventBusPort " + clusterEventBusPort() + ")");
  }

  // ---------------------------------------------------------------- user, mounts, resources

  @Test
  void podSecurityContext_runsAsTheUserTheDockerfileCreates() {
    PodSecurityContext sc = podSpec().getSecurityContext();
    int uid = dockerfile.createdUid();
    int gid = dockerfile.createdGid();

    assertEquals(uid, dockerfile.userUid(), "Dockerfile: USER vs the uid useradd creates");
    assertNotNull(sc, "StatefulSet: pod securityContext missing");
    assertEquals(Long.valueOf(uid), sc.getRunAsUser(), "securityContext.runAsUser vs Dockerfile useradd --uid");
    assertEquals(Long.valueOf(gid), sc.getRunAsGroup(), "securityContext.runAsGroup vs Dockerfile useradd --gid");
    assertEquals(Long.valueOf(gid), sc.getFsGroup(), "securityContext.fsGroup vs Dockerfile useradd --gid (owner of the cache volume)");
    assertEquals(Boolean.TRUE, sc.getRunAsNonRoot(), "securityContext.runAsNonRoot");
  }

  @Test
  void terminationGracePeriod_coversPreStopSleepPlusDrainPlusMargin() {
    long drainSeconds = (config().shutdown().drainTimeoutMs() + 999) / 1000;
    long preStop = preStopSleepSeconds(container());
    Long configured = podSpec().getTerminationGracePeriodSeconds();
    long grace = configured != null ? configured : 30; // the Kubernetes default

    assertTrue(grace >= preStop + drainSeconds + SHUTDOWN_MARGIN_SECONDS,
        "terminationGracePeriodSeconds: " + grace + " (expected: >= preStop sleep " + preStop + " + shutdown.drainTimeout "
            + drainSeconds + " + " + SHUTDOWN_MARGIN_SECONDS + " to close = " + (preStop + drainSeconds + SHUTDOWN_MARGIN_SECONDS) + ")");
  }

  @Test
  void configVolume_isMountedWhereTheDockerfileDefaultConfigLives() {
    String defaultConfig = dockerfile.defaultConfigPath();
    Path configPath = Path.of(defaultConfig);
    String configMapName = k8s.only(ConfigMap.class).getMetadata().getName();
    Volume volume = podSpec().getVolumes().stream()
        .filter(v -> v.getConfigMap() != null && configMapName.equals(v.getConfigMap().getName())).findFirst()
        .orElseThrow(() -> new AssertionError("StatefulSet: no volume of ConfigMap " + configMapName));
    VolumeMount mount = mountOf(volume.getName());
    String fileInVolume = CONFIG_KEY;
    for (KeyToPath item : volume.getConfigMap().getItems()) {
      if (item.getKey().equals(CONFIG_KEY)) {
        fileInVolume = item.getPath();
      }
    }
    String k8sConfig = Dockerfile.configArg(container().getArgs()).orElse(defaultConfig);

    assertEquals(configPath.getParent().toString(), mount.getMountPath(),
        "config volume mountPath vs the directory of the Dockerfile's --config " + defaultConfig);
    assertEquals(configPath.getFileName().toString(), fileInVolume, "config volume item path of key " + CONFIG_KEY);
    assertEquals(defaultConfig, k8sConfig, "container args --config vs Dockerfile CMD --config");
  }

  @Test
  void diskTier_pathLiesOnThePersistentCacheVolume() {
    JsonObject disk = new JsonObject(proxyJson()).getJsonObject("disk");
    String path = disk == null ? null : disk.getString("path");
    Assumptions.assumeTrue(path != null, "no disk tier configured");
    VolumeMount mount = container().getVolumeMounts().stream()
        .filter(m -> path.equals(m.getMountPath()) || path.startsWith(m.getMountPath() + "/")).findFirst()
        .orElseThrow(() -> new AssertionError(CONFIG_SOURCE + ": disk.path: " + path + " (expected: on a volume mount; the root filesystem is read-only)"));
    PersistentVolumeClaim claim = statefulSet().getSpec().getVolumeClaimTemplates().stream()
        .filter(c -> c.getMetadata().getName().equals(mount.getName())).findFirst()
        .orElseThrow(() -> new AssertionError("disk.path " + path + " is on volume " + mount.getName()
            + " (expected: a volumeClaimTemplate, so the cache survives restarts)"));
    assertTrue(dockerfile.volumes().contains(mount.getMountPath()),
        "Dockerfile: VOLUME " + dockerfile.volumes() + " (expected: " + mount.getMountPath() + ", owned by the image's user)");
    assertNotNull(disk.getValue("maxBytes"), CONFIG_SOURCE + ": disk.maxBytes (expected: stated, to be compared with the claim)");
    long maxBytes = Units.parseSize(disk.getValue("maxBytes").toString());
    BigDecimal requested = Quantity.getAmountInBytes(claim.getSpec().getResources().getRequests().get("storage"));

    assertTrue(requested.compareTo(BigDecimal.valueOf(maxBytes * DISK_CLAIM_HEADROOM)) >= 0,
        "volumeClaimTemplate " + claim.getMetadata().getName() + " storage: " + requested + " bytes (expected: >= disk.maxBytes "
            + maxBytes + " x " + DISK_CLAIM_HEADROOM + ")");
  }

  @Test
  void memoryTier_fitsInTheHeapTheContainerLimitAllows() {
    Quantity limitQ = container().getResources().getLimits().get("memory");
    assertNotNull(limitQ, "container resources.limits.memory missing (the JVM sizes its heap from it)");
    long limit = Quantity.getAmountInBytes(limitQ).longValue();
    String options = envValue("JAVA_TOOL_OPTIONS");
    long heap = jvmSize(options, "-Xmx(\\S+)").orElseGet(() -> (long) (limit * jvmPercent(options) / 100));
    long direct = jvmSize(options, "-XX:MaxDirectMemorySize=(\\S+)").orElse(heap);
    ProxyConfig config = config();

    assertTrue(config.memory().maxBytes() <= heap * MEMORY_TIER_MAX_HEAP_SHARE,
        CONFIG_SOURCE + ": memory.maxBytes: " + config.memory().maxBytes() + " (expected: <= " + MEMORY_TIER_MAX_HEAP_SHARE
            + " x heap " + heap + " from JAVA_TOOL_OPTIONS \"" + options + "\" and limit " + limitQ + ")");
    assertTrue(heap + direct < limit, "heap " + heap + " + direct " + direct + " (expected: < memory limit " + limit + ")");
  }

  /**
   * The start-up heap check ({@link HeapBudget}) passes, with room to spare, for the ConfigMap's
   * config (disk tier and its index included) in the heap the StatefulSet's limit and
   * JAVA_TOOL_OPTIONS give, and for the image's default config in the heap the image's own
   * flags give under the same limit.
   */
  @Test
  void heapBudget_shippedConfigs_fitTheHeapTheContainerGivesWithRoomToSpare() {
    long limit = Quantity.getAmountInBytes(container().getResources().getLimits().get("memory")).longValue();
    String options = envValue("JAVA_TOOL_OPTIONS");
    long heap = jvmSize(options, "-Xmx(\\S+)").orElseGet(() -> (long) (limit * jvmPercent(options) / 100));
    ProxyConfig k8sConfig = ConfigLoader.parse(CONFIG_SOURCE, resolvedProxyJson());
    assertTrue(k8sConfig.disk().enabled(), "the ConfigMap runs the disk tier: its index must be in the budget");
    assertFits(HeapBudget.of(k8sConfig, heap), CONFIG_SOURCE);

    String imageOptions = dockerfile.env().getOrDefault("JAVA_TOOL_OPTIONS", "");
    long imageHeap = jvmSize(imageOptions, "-Xmx(\\S+)")
        .orElseGet(() -> (long) (limit * jvmPercent(imageOptions) / 100));
    assertFits(HeapBudget.of(ConfigLoader.load(ROOT.resolve("conf/proxy.json")), imageHeap), "conf/proxy.json");
  }

  /** Fits, and leaves a tenth of the heap beyond the budget (which already keeps GC room). */
  private static void assertFits(HeapBudget budget, String source) {
    assertTrue(budget.fits(), () -> budget.refusal(source).orElseThrow());
    assertTrue(budget.required() <= budget.maxHeap() * 0.9, () -> source + ": heap budget " + budget.required()
        + " (expected: <= 0.9 x max heap " + budget.maxHeap() + ", room to spare)");
  }

  // ---------------------------------------------------------------- cluster

  @Test
  void clusterService_isHeadless_listsNotReadyPods_andNamesTheClusterPorts() {
    Service svc = k8s.service(clusterServiceName());
    String who = "Service " + svc.getMetadata().getName();
    Map<String, ServicePort> ports = new LinkedHashMap<>();
    svc.getSpec().getPorts().forEach(p -> ports.put(p.getName(), p));

    assertEquals("None", svc.getSpec().getClusterIP(), who + " clusterIP (expected: None; Hazelcast's DNS discovery "
        + "needs one A record per pod, not a virtual IP)");
    assertEquals(Boolean.TRUE, svc.getSpec().getPublishNotReadyAddresses(), who + " publishNotReadyAddresses "
        + "(expected: true; pods are not ready until they have joined, so starting pods must find each other)");
    assertEquals(Set.of(HAZELCAST_PORT_NAME, EVENTBUS_PORT_NAME), ports.keySet(), who + " port names");
    assertClusterServicePort(who, ports.get(HAZELCAST_PORT_NAME), clusterBindPort(), "cluster.bind port");
    assertClusterServicePort(who, ports.get(EVENTBUS_PORT_NAME), clusterEventBusPort(), "cluster.eventBusPort");
  }

  @Test
  void statefulSet_serviceName_isTheClusterDiscoveryService() {
    assertEquals(clusterServiceName(), statefulSet().getSpec().getServiceName(), "StatefulSet serviceName vs "
        + CONFIG_SOURCE + " cluster.kubernetes.service (expected: equal, so pods get names under the discovery Service)");
  }

  @Test
  void clusterDiscovery_namespace_isTheOneTheManifestsAreAppliedTo() {
    JsonObject kube = cluster().getJsonObject("kubernetes");
    String kustomized = k8s.kustomization().path("namespace").asText("default");

    assertNull(cluster().getValue("members"), CONFIG_SOURCE + ": cluster.members (expected: none; kubernetes discovery)");
    assertEquals(kustomized, kube.getString("namespace", "default"), CONFIG_SOURCE
        + ": cluster.kubernetes.namespace vs k8s/kustomization.yaml namespace (default: \"default\")");
  }

  @Test
  void container_declaresTheClusterPorts_byName() {
    assertEquals(clusterBindPort(), containerPort(new IntOrString(HAZELCAST_PORT_NAME), "container port \"" + HAZELCAST_PORT_NAME + "\""),
        "cluster.bind port vs container port \"" + HAZELCAST_PORT_NAME + "\"");
    assertEquals(clusterEventBusPort(), containerPort(new IntOrString(EVENTBUS_PORT_NAME), "container port \"" + EVENTBUS_PORT_NAME + "\""),
        "cluster.eventBusPort vs container port \"" + EVENTBUS_PORT_NAME + "\"");
  }

  @Test
  void clusterTokenEnv_comesFromARequiredSecretKey_neverALiteral() {
    String name = envRefName("cluster.token", cluster().getValue("token"));

    assertSecretEnv(name, "cluster.token");
  }

  /**
   * {@code cluster.bind} must be an address peers can reach and Hazelcast can announce: the pod
   * IP from the downward API, defined before the variable that expands it (Kubernetes expands
   * {@code $(VAR)} only for variables listed earlier), never a wildcard.
   */
  @Test
  void clusterBind_isThePodIp_fromTheDownwardApi() {
    Object bind = cluster().getValue("bind");
    String host = clusterBind().substring(0, clusterBind().lastIndexOf(':'));

    assertEquals(EXAMPLE_POD_IP, host, CONFIG_SOURCE + ": cluster.bind: " + bind + " resolves to " + clusterBind()
        + " in a pod (expected: $(POD_IP):port, POD_IP from fieldRef status.podIP, defined before it)");
    Object advertise = cluster().getValue("advertiseUrl");
    if (advertise != null) {
      String url = resolveEnv(advertise.toString());
      assertEquals("http://" + EXAMPLE_POD_IP + ":" + config().listen().port(), url, CONFIG_SOURCE + ": cluster.advertiseUrl: "
          + advertise + " (expected: the pod IP and listen.port; peers fetch from it)");
    }
  }

  @Test
  void servicesWithAVirtualIp_doNotExposeTheClusterPorts() {
    Set<Integer> clusterPorts = Set.of(clusterBindPort(), clusterEventBusPort());
    for (Service s : k8s.all(Service.class)) {
      if ("None".equals(s.getSpec().getClusterIP())) {
        continue;
      }
      for (ServicePort p : s.getSpec().getPorts()) {
        IntOrString target = p.getTargetPort() != null ? p.getTargetPort() : new IntOrString(p.getPort());
        String where = "Service " + s.getMetadata().getName() + " port " + p.getName();

        assertFalse(clusterPorts.contains(containerPort(target, where + " targetPort")), where
            + " reaches a cluster port (expected: only listen.port behind a Service address)");
      }
    }
  }

  /**
   * The NetworkPolicy selects the pods and lets only edgecache pods of the same namespace reach the
   * cluster ports; the traffic and admin ports stay reachable (a policy that selects a pod closes
   * every ingress it does not allow).
   */
  @Test
  void networkPolicy_opensTheClusterPortsToEdgecachePodsOnly() {
    NetworkPolicy np = k8s.only(NetworkPolicy.class);
    String who = "NetworkPolicy " + np.getMetadata().getName();
    LabelSelector selector = np.getSpec().getPodSelector();
    ProxyConfig config = config();
    Set<Integer> clusterPorts = Set.of(clusterBindPort(), clusterEventBusPort());
    Set<Integer> reachedByPeers = new TreeSet<>();
    Set<Integer> reachedByAll = new TreeSet<>();

    assertTrue(selector.getMatchExpressions() == null || selector.getMatchExpressions().isEmpty(), who + " podSelector.matchExpressions");
    assertSelects(who + " podSelector", selector.getMatchLabels());
    assertTrue(np.getSpec().getPolicyTypes().contains("Ingress"), who + " policyTypes (expected: Ingress)");
    for (NetworkPolicyIngressRule rule : np.getSpec().getIngress()) {
      List<NetworkPolicyPort> ports = rule.getPorts() == null ? List.of() : rule.getPorts();
      assertFalse(ports.isEmpty(), who + ": an ingress rule without ports (expected: each rule names its ports; "
          + "no ports means all ports, cluster ports included)");
      boolean onlyEdgecache = !rule.getFrom().isEmpty() && rule.getFrom().stream().allMatch(ManifestsTest::isEdgecachePods);
      for (NetworkPolicyPort p : ports) {
        assertNull(p.getEndPort(), who + ": port ranges (expected: single ports)");
        int port = containerPort(p.getPort(), who + " ingress port");
        (onlyEdgecache ? reachedByPeers : reachedByAll).add(port);
        if (clusterPorts.contains(port)) {
          assertTrue(onlyEdgecache, who + ": port " + portName(p.getPort()) + " is open to " + (rule.getFrom().isEmpty() ? "everyone" : rule.getFrom())
              + " (expected: from edgecache pods only; open-source Hazelcast does not authenticate members)");
        }
      }
    }
    assertTrue(reachedByPeers.containsAll(clusterPorts), who + ": ports open to edgecache pods " + reachedByPeers
        + " (expected: cluster ports " + clusterPorts + ", or the cluster cannot form)");
    assertTrue(reachedByAll.containsAll(List.of(config.listen().port(), config.admin().port())), who + ": ports open to all "
        + reachedByAll + " (expected: listen.port and admin.port, for clients, probes and Prometheus)");
  }

  // ---------------------------------------------------------------- HPA, PDB, selectors

  @Test
  void hpa_scalesTheStatefulSetByName() {
    CrossVersionObjectReference target = k8s.only(HorizontalPodAutoscaler.class).getSpec().getScaleTargetRef();
    StatefulSet sts = statefulSet();

    assertEquals("apps/v1", target.getApiVersion(), "HPA scaleTargetRef.apiVersion");
    assertEquals("StatefulSet", target.getKind(), "HPA scaleTargetRef.kind");
    assertEquals(sts.getMetadata().getName(), target.getName(), "HPA scaleTargetRef.name");
    assertNull(sts.getSpec().getReplicas(), "StatefulSet spec.replicas (expected: unset, the HPA owns it)");
  }

  @Test
  void hpa_cpuUtilizationTarget_hasACpuRequestToMeasureAgainst() {
    boolean cpuUtilization = k8s.only(HorizontalPodAutoscaler.class).getSpec().getMetrics().stream()
        .anyMatch(m -> m.getResource() != null && "cpu".equals(m.getResource().getName())
            && "Utilization".equals(m.getResource().getTarget().getType()));
    Assumptions.assumeTrue(cpuUtilization, "HPA does not scale on CPU utilization");

    assertNotNull(container().getResources().getRequests().get("cpu"), "container resources.requests.cpu (the HPA's 100%)");
  }

  @Test
  void pdb_selectsThePodsOfTheStatefulSet_andLeavesOneAtMinReplicas() {
    PodDisruptionBudget pdb = k8s.only(PodDisruptionBudget.class);
    var selector = pdb.getSpec().getSelector();
    IntOrString maxUnavailable = pdb.getSpec().getMaxUnavailable();
    Integer minReplicas = k8s.only(HorizontalPodAutoscaler.class).getSpec().getMinReplicas();

    assertTrue(selector.getMatchExpressions() == null || selector.getMatchExpressions().isEmpty(),
        "PDB selector.matchExpressions (expected: none; matchLabels only)");
    assertSelects("PDB " + pdb.getMetadata().getName(), selector.getMatchLabels());
    if (maxUnavailable != null && maxUnavailable.getIntVal() != null && minReplicas != null) {
      assertTrue(minReplicas - maxUnavailable.getIntVal() >= 1,
          "PDB maxUnavailable " + maxUnavailable.getIntVal() + " vs HPA minReplicas " + minReplicas + " (expected: one replica keeps serving)");
    }
  }

  @Test
  void statefulSetAndServiceSelectors_matchThePodLabels() {
    StatefulSet sts = statefulSet();
    assertSelects("StatefulSet selector", sts.getSpec().getSelector().getMatchLabels());
    for (Service s : k8s.all(Service.class)) {
      assertSelects("Service " + s.getMetadata().getName(), s.getSpec().getSelector());
    }
    Service governing = k8s.service(sts.getSpec().getServiceName());

    assertEquals("None", governing.getSpec().getClusterIP(), "StatefulSet serviceName " + governing.getMetadata().getName()
        + " (expected: a headless Service, clusterIP: None)");
  }

  // ---------------------------------------------------------------- helpers

  /** NAME of the ConfigMap's {@code "admin": {"token": "env:NAME"}}. */
  private static String adminTokenEnvName() {
    Object token = new JsonObject(proxyJson()).getJsonObject("admin", new JsonObject()).getValue("token");
    Matcher m = ENV_REF.matcher("\"" + token + "\"");
    assertTrue(m.matches(), CONFIG_SOURCE + ": admin.token: " + token + " (expected: \"env:NAME\")");
    return m.group(1);
  }

  private static StatefulSet statefulSet() {
    return k8s.only(StatefulSet.class);
  }

  private static PodSpec podSpec() {
    return statefulSet().getSpec().getTemplate().getSpec();
  }

  /** The edgecache container (the only one, or the one named "edgecache"). */
  private static Container container() {
    List<Container> all = podSpec().getContainers();
    if (all.size() == 1) {
      return all.get(0);
    }
    return all.stream().filter(c -> c.getName().equals("edgecache")).findFirst()
        .orElseThrow(() -> new AssertionError("StatefulSet: no container named edgecache"));
  }

  private static String proxyJson() {
    ConfigMap cm = k8s.only(ConfigMap.class);
    String json = cm.getData() == null ? null : cm.getData().get(CONFIG_KEY);
    assertNotNull(json, "ConfigMap " + cm.getMetadata().getName() + ": data." + CONFIG_KEY + " missing");
    return json;
  }

  /**
   * The ConfigMap's configuration without its {@code disk} section (which ConfigLoader may not know
   * yet) and with {@code "env:NAME"} secrets replaced by placeholders, so that every other check
   * runs whatever the state of the disk tier and of this machine's environment.
   */
  private static ProxyConfig config() {
    JsonObject json = new JsonObject(resolvedProxyJson());
    json.remove("disk");
    return ConfigLoader.parse(CONFIG_SOURCE, json.encode());
  }

  /**
   * The ConfigMap's configuration as a pod would load it: {@code "env:NAME"} becomes the value
   * the container env gives NAME ({@code $(VAR)} expanded, the pod IP as {@link #EXAMPLE_POD_IP}),
   * and a value from a Secret becomes a placeholder token. ConfigLoader would otherwise read this
   * JVM's environment.
   */
  private static String resolvedProxyJson() {
    return ENV_REF.matcher(proxyJson()).replaceAll(m -> Matcher.quoteReplacement("\"" + resolveEnv("env:" + m.group(1)) + "\""));
  }

  /** {@code "env:NAME"} resolved as in {@link #resolvedProxyJson()}; anything else as it is. */
  private static String resolveEnv(String value) {
    if (!value.startsWith("env:")) {
      return value;
    }
    String name = value.substring(4);
    List<EnvVar> env = container().getEnv();
    for (int i = 0; i < env.size(); i++) {
      EnvVar v = env.get(i);
      if (v.getName().equals(name)) {
        return envValueInPod(v, env.subList(0, i));
      }
    }
    return "placeholder-token-for-" + name; // configMapTokens_fromTheEnvironment_areSetOnTheContainer reports it
  }

  /** What the kubelet sets: a literal with {@code $(VAR)} of earlier variables expanded, a pod IP, a Secret. */
  private static String envValueInPod(EnvVar v, List<EnvVar> earlier) {
    if (v.getValue() != null) {
      Matcher m = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)").matcher(v.getValue());
      return m.replaceAll(r -> Matcher.quoteReplacement(earlier.stream().filter(e -> e.getName().equals(r.group(1))).findFirst()
          .map(e -> envValueInPod(e, List.of())).orElse(r.group()))); // Kubernetes leaves unknown $(VAR) as written
    }
    if (v.getValueFrom() != null && v.getValueFrom().getFieldRef() != null
        && "status.podIP".equals(v.getValueFrom().getFieldRef().getFieldPath())) {
      return EXAMPLE_POD_IP;
    }
    return "placeholder-token-for-" + v.getName();
  }

  /** The ConfigMap's {@code cluster} section (raw JSON: read without the loader). */
  private static JsonObject cluster() {
    JsonObject c = new JsonObject(proxyJson()).getJsonObject("cluster");
    assertNotNull(c, CONFIG_SOURCE + ": no \"cluster\" section (expected: the replicas form one cluster)");
    assertEquals(Boolean.TRUE, c.getValue("enabled"), CONFIG_SOURCE + ": cluster.enabled");
    return c;
  }

  private static String clusterServiceName() {
    JsonObject kube = cluster().getJsonObject("kubernetes");
    assertNotNull(kube, CONFIG_SOURCE + ": cluster.kubernetes (expected: DNS discovery through a headless Service)");
    String name = kube.getString("service");
    assertNotNull(name, CONFIG_SOURCE + ": cluster.kubernetes.service");
    return name;
  }

  /** {@code cluster.bind} as a pod resolves it (host:port). */
  private static String clusterBind() {
    Object bind = cluster().getValue("bind");
    assertNotNull(bind, CONFIG_SOURCE + ": cluster.bind (expected: the pod IP and the cluster port)");
    return resolveEnv(bind.toString());
  }

  /** cluster.bind's port as the loader reads it in a pod. */
  private static int clusterBindPort() {
    return ConfigLoader.parse(CONFIG_SOURCE, resolvedProxyJson()).cluster().bindPort();
  }

  private static int clusterEventBusPort() {
    int port = ConfigLoader.parse(CONFIG_SOURCE, resolvedProxyJson()).cluster().eventBusPort();
    assertTrue(port > 0, CONFIG_SOURCE + ": cluster.eventBusPort: " + port
        + " (expected: a fixed port; 0 would pick one the Service and NetworkPolicy cannot name)");
    return port;
  }

  private static void assertClusterServicePort(String who, ServicePort p, int expected, String key) {
    assertEquals(expected, p.getPort(), who + " port " + p.getName() + " vs " + CONFIG_SOURCE + " " + key
        + " (expected: equal; Hazelcast's DNS discovery dials the pods at the bind port)");
    IntOrString target = p.getTargetPort() != null ? p.getTargetPort() : new IntOrString(p.getPort());
    assertEquals(expected, containerPort(target, who + " port " + p.getName() + " targetPort"), who + " port " + p.getName() + " targetPort vs " + key);
  }

  private static String portName(IntOrString port) {
    return port.getStrVal() != null ? "\"" + port.getStrVal() + "\"" : String.valueOf(port.getIntVal());
  }

  /** A NetworkPolicy peer that is exactly "pods of this namespace carrying the pod labels". */
  private static boolean isEdgecachePods(NetworkPolicyPeer peer) {
    if (peer.getIpBlock() != null || peer.getNamespaceSelector() != null || peer.getPodSelector() == null) {
      return false;
    }
    LabelSelector s = peer.getPodSelector();
    Map<String, String> labels = statefulSet().getSpec().getTemplate().getMetadata().getLabels();
    return (s.getMatchExpressions() == null || s.getMatchExpressions().isEmpty()) && s.getMatchLabels() != null
        && !s.getMatchLabels().isEmpty() && labels.entrySet().containsAll(s.getMatchLabels().entrySet());
  }

  /** NAME of a config value {@code "env:NAME"}. */
  private static String envRefName(String key, Object value) {
    Matcher m = ENV_REF.matcher("\"" + value + "\"");
    assertTrue(m.matches(), CONFIG_SOURCE + ": " + key + ": " + value + " (expected: \"env:NAME\" filled from a Secret)");
    return m.group(1);
  }

  /** Container env {@code name} comes from a required Secret key and is never written out. */
  private static void assertSecretEnv(String name, String key) {
    EnvVar env = container().getEnv().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("container env " + name + ": missing (" + key + " is \"env:" + name + "\")"));
    SecretKeySelector ref = env.getValueFrom() == null ? null : env.getValueFrom().getSecretKeyRef();

    assertNull(env.getValue(), "container env " + name + ".value (expected: none, the token must not be in the manifests)");
    assertNotNull(ref, "container env " + name + " (expected: valueFrom.secretKeyRef)");
    assertTrue(ref.getName() != null && !ref.getName().isBlank(), "container env " + name + ".valueFrom.secretKeyRef.name");
    assertTrue(ref.getKey() != null && !ref.getKey().isBlank(), "container env " + name + ".valueFrom.secretKeyRef.key");
    assertNotEquals(Boolean.TRUE, ref.getOptional(), "container env " + name + ".valueFrom.secretKeyRef.optional "
        + "(expected: required, so that a missing Secret stops the pod with CreateContainerConfigError)");
  }

  private static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  /** A port reference (number or container port name) resolved to a number. */
  private static int containerPort(IntOrString ref, String where) {
    assertNotNull(ref, where + ": missing");
    if (ref.getIntVal() != null) {
      return ref.getIntVal();
    }
    List<String> names = new ArrayList<>();
    for (ContainerPort p : container().getPorts()) {
      if (ref.getStrVal().equals(p.getName())) {
        return p.getContainerPort();
      }
      names.add(p.getName());
    }
    throw new AssertionError(where + ": \"" + ref.getStrVal() + "\" (expected: a container port name, one of " + names + ")");
  }

  private static void assertHttpProbe(String name, Probe probe, String path) {
    assertNotNull(probe, "container " + name + " missing");
    HTTPGetAction get = probe.getHttpGet();
    assertNotNull(get, name + " (expected: httpGet)");
    assertEquals(path, get.getPath(), name + ".httpGet.path");
    assertEquals(config().admin().port(), containerPort(get.getPort(), name + ".httpGet.port"), name + " port vs admin.port");
    assertTrue(get.getScheme() == null || get.getScheme().equals("HTTP"), name + ".httpGet.scheme: " + get.getScheme() + " (expected: HTTP)");
  }

  private static long preStopSleepSeconds(Container c) {
    if (c.getLifecycle() == null || c.getLifecycle().getPreStop() == null) {
      return 0;
    }
    LifecycleHandler h = c.getLifecycle().getPreStop();
    if (h.getSleep() != null) {
      return h.getSleep().getSeconds();
    }
    if (h.getExec() != null) {
      Matcher m = Pattern.compile("(?:^|[\\s/])sleep\\s+(\\d+)").matcher(String.join(" ", h.getExec().getCommand()));
      if (m.find()) {
        return Long.parseLong(m.group(1));
      }
    }
    return fail("preStop: " + h + " (expected: sleep N, as an exec command or a sleep action)");
  }

  /** The port of the HEALTHCHECK's bash /dev/tcp/HOST/PORT or curl/wget http://HOST:PORT/ target. */
  private static int healthcheckPort(String expanded) {
    Matcher m = Pattern.compile("/dev/tcp/[^/]+/(\\d+)|https?://[^/:]+:(\\d+)/").matcher(expanded);
    if (!m.find()) {
      return fail("Dockerfile: HEALTHCHECK " + expanded + " (expected: /dev/tcp/HOST/PORT or http://HOST:PORT/)");
    }
    return Integer.parseInt(m.group(1) != null ? m.group(1) : m.group(2));
  }

  private static VolumeMount mountOf(String volume) {
    return container().getVolumeMounts().stream().filter(m -> m.getName().equals(volume)).findFirst()
        .orElseThrow(() -> new AssertionError("container: volume " + volume + " is not mounted"));
  }

  private static void assertSelects(String who, Map<String, String> selector) {
    Map<String, String> labels = statefulSet().getSpec().getTemplate().getMetadata().getLabels();
    assertTrue(selector != null && !selector.isEmpty(), who + ": empty selector (expected: the pod labels)");
    for (Map.Entry<String, String> e : selector.entrySet()) {
      assertEquals(e.getValue(), labels.get(e.getKey()), who + " selector " + e.getKey() + " vs pod template labels " + labels);
    }
  }

  /** A container env value, else the Dockerfile's ENV, else "". */
  private static String envValue(String name) {
    for (EnvVar v : container().getEnv()) {
      if (v.getName().equals(name) && v.getValue() != null) {
        return v.getValue();
      }
    }
    return dockerfile.env().getOrDefault(name, "");
  }

  private static Optional<Long> jvmSize(String options, String regex) {
    Matcher m = Pattern.compile(regex).matcher(options);
    if (!m.find()) {
      return Optional.empty();
    }
    String v = m.group(1).toLowerCase(Locale.ROOT);
    long unit = v.endsWith("g") ? 1L << 30 : v.endsWith("m") ? 1L << 20 : v.endsWith("k") ? 1L << 10 : 1;
    return Optional.of(Long.parseLong(v.replaceAll("[gmk]$", "")) * unit);
  }

  private static double jvmPercent(String options) {
    Matcher m = Pattern.compile("-XX:MaxRAMPercentage=([0-9.]+)").matcher(options);
    return m.find() ? Double.parseDouble(m.group(1)) : 25.0; // the JVM's default
  }
}
