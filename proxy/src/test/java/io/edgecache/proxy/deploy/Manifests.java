package io.edgecache.proxy.deploy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The manifests of {@code k8s/}, read into the fabric8 Kubernetes model, strictly.
 *
 * <p>The fabric8 classes collect fields they do not know in {@code additionalProperties}, so a
 * plain read accepts {@code readinesProbe:} and silently drops the probe, as {@code kubectl apply}
 * without server-side validation would. The reader here switches those catch-alls off: a field
 * the Kubernetes API does not define fails the read with its path. Each document's
 * {@code apiVersion}/{@code kind} must be one of {@link #KINDS}; the kustomization file is kept as
 * a plain tree (it is a kustomize input, not an API object).
 */
final class Manifests {
  /** The API objects edgecache deploys, by "apiVersion/kind". */
  static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
      "v1/ConfigMap", ConfigMap.class,
      "v1/Service", Service.class,
      "apps/v1/StatefulSet", StatefulSet.class,
      "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
      "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
      "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class);

  static final String KUSTOMIZATION = "kustomization.yaml";

  private static final YAMLMapper STRICT = YAMLMapper.builder()
      .annotationIntrospector(new NoCatchAll())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();

  /** One API object and where it came from ({@code k8s/service.yaml#2} is the second document). */
  record Doc(String source, HasMetadata resource) {}

  private final List<Doc> docs;
  private final JsonNode kustomization;
  private final List<String> files;

  private Manifests(List<Doc> docs, JsonNode kustomization, List<String> files) {
    this.docs = docs;
    this.kustomization = kustomization;
    this.files = files;
  }

  /** Reads every {@code *.yaml} / {@code *.yml} file of {@code dir}. */
  static Manifests load(Path dir) {
    List<Doc> docs = new ArrayList<>();
    JsonNode kustomization = null;
    List<String> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml") || n.endsWith(".yml"))
          .sorted().collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (String name : files) {
      String text = read(dir.resolve(name));
      List<JsonNode> trees = documents("k8s/" + name, text);
      if (name.equals(KUSTOMIZATION)) {
        kustomization = trees.get(0);
        continue;
      }
      for (int i = 0; i < trees.size(); i++) {
        String source = "k8s/" + name + (trees.size() > 1 ? "#" + (i + 1) : "");
        docs.add(new Doc(source, toModel(source, trees.get(i))));
      }
    }
    return new Manifests(List.copyOf(docs), kustomization, List.copyOf(files));
  }

  /** Reads one YAML document strictly (used by the test that proves the reader is strict). */
  static HasMetadata parse(String source, String yaml) {
    List<JsonNode> trees = documents(source, yaml);
    if (trees.size() != 1) {
      throw new AssertionError(source + ": expected one YAML document, got " + trees.size());
    }
    return toModel(source, trees.get(0));
  }

  List<Doc> docs() {
    return docs;
  }

  /** The file names in the folder, sorted. */
  List<String> files() {
    return files;
  }

  /** The kustomization tree, or null if the folder has none. */
  JsonNode kustomization() {
    return kustomization;
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return docs.stream().map(Doc::resource).filter(type::isInstance).map(type::cast).collect(Collectors.toList());
  }

  /** The one object of {@code type}; fails if there are none or several. */
  <T extends HasMetadata> T only(Class<T> type) {
    List<T> found = all(type);
    if (found.size() != 1) {
      throw new AssertionError("k8s/: expected exactly one " + type.getSimpleName() + ", found " + found.size());
    }
    return found.get(0);
  }

  /** The Service named {@code name}. */
  Service service(String name) {
    return all(Service.class).stream().filter(s -> name.equals(s.getMetadata().getName())).findFirst()
        .orElseThrow(() -> new AssertionError("k8s/: no Service named \"" + name + "\" (found: "
            + all(Service.class).stream().map(s -> s.getMetadata().getName()).toList() + ")"));
  }

  static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(p + ": cannot read", e);
    }
  }

  private static List<JsonNode> documents(String source, String text) {
    List<JsonNode> out = new ArrayList<>();
    try (MappingIterator<JsonNode> it = STRICT.readerFor(JsonNode.class).readValues(text)) {
      while (it.hasNextValue()) {
        JsonNode n = it.nextValue();
        if (n != null && !n.isNull() && !n.isMissingNode()) {
          out.add(n);
        }
      }
    } catch (IOException e) {
      throw new AssertionError(source + ": invalid YAML: " + originalMessage(e), e);
    }
    return out;
  }

  private static HasMetadata toModel(String source, JsonNode tree) {
    String key = tree.path("apiVersion").asText("?") + "/" + tree.path("kind").asText("?");
    Class<? extends HasMetadata> type = KINDS.get(key);
    if (type == null) {
      throw new AssertionError(source + ": apiVersion/kind: " + key + " (expected one of " + KINDS.keySet().stream()
          .sorted().toList() + "; add the class to Manifests.KINDS if the deployment needs a new kind)");
    }
    try {
      return STRICT.treeToValue(tree, type);
    } catch (UnrecognizedPropertyException e) {
      throw new AssertionError(source + ": " + path(e) + ": unknown field (not in the Kubernetes "
          + e.getReferringClass().getSimpleName() + " API)", e);
    } catch (JsonMappingException e) {
      throw new AssertionError(source + ": " + path(e) + ": " + e.getOriginalMessage(), e);
    } catch (JsonProcessingException e) {
      throw new AssertionError(source + ": " + e.getOriginalMessage(), e);
    }
  }

  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      }
    }
    return sb.length() == 0 ? "(top level)" : sb.toString();
  }

  private static String originalMessage(IOException e) {
    return e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
  }

  /** Ignores {@code @JsonAnySetter}, so unknown fields reach FAIL_ON_UNKNOWN_PROPERTIES. */
  private static final class NoCatchAll extends JacksonAnnotationIntrospector {
    @Override
    public Boolean hasAnySetter(Annotated a) {
      return Boolean.FALSE;
    }
  }
}
