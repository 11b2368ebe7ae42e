package io.edgecache.proxy.deploy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The facts of the repository's Dockerfile that the Kubernetes manifests depend on, read from the
 * runtime stage (the instructions after the last {@code FROM}). Only the forms the Dockerfile
 * uses are understood (exec-form CMD, {@code ENV K=V}, {@code useradd --uid}); anything else
 * fails loudly rather than being guessed.
 */
final class Dockerfile {
  private static final Pattern USERADD_UID = Pattern.compile("\\b(?:useradd|adduser)\\b[^;&|]*?(?:--uid[= ]|-u )\\s*(\\d+)");
  private static final Pattern USERADD_GID = Pattern.compile("\\b(?:useradd|adduser)\\b[^;&|]*?(?:--gid[= ]|-g )\\s*(\\d+)");
  private static final Pattern USERADD_NAME = Pattern.compile("\\b(?:useradd|adduser)\\b[^;&|]*\\s([a-z_][a-z0-9_-]*)\\s*(?:$|[;&|])");
  private static final Pattern ENV_PAIR = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S+)");
  private static final Pattern SHELL_DEFAULT = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*):-([^}]*)}");

  /** One instruction, continuation lines joined: keyword in upper case, arguments as written. */
  record Instruction(String keyword, String args) {}

  private final List<Instruction> runtime;

  private Dockerfile(List<Instruction> runtime) {
    this.runtime = runtime;
  }

  static Dockerfile read(Path path) {
    List<Instruction> all = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String raw : Manifests.read(path).split("\n", -1)) {
      String line = raw.strip();
      if (current.length() == 0 && (line.isEmpty() || line.startsWith("#"))) {
        continue;
      }
      if (current.length() > 0 && line.startsWith("#")) {
        continue; // a comment inside a continued instruction
      }
      if (line.endsWith("\\")) {
        current.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      current.append(line);
      String text = current.toString().strip();
      current.setLength(0);
      int sp = text.indexOf(' ');
      all.add(new Instruction(text.substring(0, sp < 0 ? text.length() : sp).toUpperCase(java.util.Locale.ROOT),
          sp < 0 ? "" : text.substring(sp + 1).strip()));
    }
    int lastFrom = -1;
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).keyword().equals("FROM")) {
        lastFrom = i;
      }
    }
    if (lastFrom < 0) {
      throw new AssertionError(path + ": no FROM instruction");
    }
    return new Dockerfile(List.copyOf(all.subList(lastFrom + 1, all.size())));
  }

  List<String> args(String keyword) {
    return runtime.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::args).toList();
  }

  /** The uid that {@code useradd --uid N} creates in the runtime stage. */
  int createdUid() {
    return number(USERADD_UID, "useradd/adduser with --uid N");
  }

  /** The gid given to the created user ({@code --gid N}). */
  int createdGid() {
    return number(USERADD_GID, "useradd/adduser with --gid N");
  }

  /**
   * The uid the image runs as: the {@code USER} line, numeric ({@code USER 10001[:10001]}) or the
   * name of the user created by useradd.
   */
  int userUid() {
    String user = last("USER").orElseThrow(() -> new AssertionError("Dockerfile: no USER line (the image would run as root)"));
    String name = user.split(":", 2)[0];
    if (name.matches("\\d+")) {
      return Integer.parseInt(name);
    }
    for (String run : args("RUN")) {
      Matcher m = USERADD_NAME.matcher(run);
      if (m.find() && m.group(1).equals(name)) {
        return createdUid();
      }
    }
    throw new AssertionError("Dockerfile: USER " + user + " (expected: a uid, or the name of a user the runtime stage creates)");
  }

  /** The exec-form CMD, e.g. ["--config", "/opt/edgecache/conf/proxy.json"]. */
  List<String> cmd() {
    return execForm("CMD");
  }

  /** The value following {@code --config} in CMD, or {@code --config=}. */
  String defaultConfigPath() {
    return configArg(cmd()).orElseThrow(() -> new AssertionError("Dockerfile: CMD " + cmd() + " (expected: --config FILE)"));
  }

  /** {@code ENV} values of the runtime stage, later lines winning. */
  Map<String, String> env() {
    Map<String, String> env = new LinkedHashMap<>();
    for (String args : args("ENV")) {
      Matcher m = ENV_PAIR.matcher(args);
      boolean any = false;
      while (m.find()) {
        String v = m.group(2);
        env.put(m.group(1), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
        any = true;
      }
      if (!any) {
        throw new AssertionError("Dockerfile: ENV " + args + " (expected: KEY=VALUE)");
      }
    }
    return env;
  }

  List<Integer> exposedPorts() {
    List<Integer> ports = new ArrayList<>();
    for (String args : args("EXPOSE")) {
      for (String p : args.split("\\s+")) {
        ports.add(Integer.parseInt(p.replaceFirst("/(tcp|udp)$", "")));
      }
    }
    return ports;
  }

  List<String> volumes() {
    List<String> out = new ArrayList<>();
    for (String args : args("VOLUME")) {
      if (args.startsWith("[")) {
        new JsonArray(args).forEach(v -> out.add((String) v));
      } else {
        out.addAll(List.of(args.split("\\s+")));
      }
    }
    return out;
  }

  /** The HEALTHCHECK command text, or empty if there is none. */
  Optional<String> healthcheck() {
    return last("HEALTHCHECK");
  }

  /**
   * Expands {@code ${NAME:-default}} in {@code text} with {@code env}, falling back to the default
   * written in the text.
   */
  static String expand(String text, Map<String, String> env) {
    Matcher m = SHELL_DEFAULT.matcher(text);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(sb, Matcher.quoteReplacement(env.getOrDefault(m.group(1), m.group(2))));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  /** The value of {@code --config} in an argument list. */
  static Optional<String> configArg(List<String> args) {
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--config") && i + 1 < args.size()) {
        return Optional.of(args.get(i + 1));
      }
      if (args.get(i).startsWith("--config=")) {
        return Optional.of(args.get(i).substring("--config=".length()));
      }
    }
    return Optional.empty();
  }

  private Optional<String> last(String keyword) {
    List<String> all = args(keyword);
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  private List<String> execForm(String keyword) {
    String args = last(keyword).orElseThrow(() -> new AssertionError("Dockerfile: no " + keyword + " in the runtime stage"));
    if (!args.startsWith("[")) {
      throw new AssertionError("Dockerfile: " + keyword + " " + args + " (expected: exec form, a JSON array)");
    }
    List<String> out = new ArrayList<>();
    new JsonObject("{\"a\":" + args + "}").getJsonArray("a").forEach(v -> out.add((String) v));
    return out;
  }

  private int number(Pattern p, String expected) {
    for (String run : args("RUN")) {
      Matcher m = p.matcher(run);
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
    }
    throw new AssertionError("Dockerfile: runtime stage has no " + expected);
  }
}
