package dev.fibservice.cluster;

import dev.fibservice.ServiceProcess;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hosts made of Linux network namespaces, for cluster tests and the partition bench: one namespace per host, each
 * with a veth into a bridge that lives in a switch namespace of its own, addresses in 198.19.X.0/25 and no route
 * out; the first host also gets a point-to-point link from the root namespace (198.19.X.252/30), the way clients
 * reach the front. Names and the third octet come from this JVM's pid, so two runs on one machine never meet, and
 * every name starts with {@value #PREFIX}. A host is cut off by nft rules in its own namespace that drop every
 * packet (no RST, as a failed switch or a frozen VM), and healed by deleting them.
 *
 * <p>Everything made here (namespaces, links, nft tables, cgroups, processes) is removed by {@link #close()},
 * which also runs at JVM exit; leftovers of runs whose JVM is gone are removed at start.
 */
final class Hosts implements AutoCloseable {

  static final String PREFIX = "fh";
  private static final Path CGROUP_CPU = Path.of("/sys/fs/cgroup/cpu");

  /** What every name made here starts with ({@value #PREFIX} unless a caller names its own). */
  private final String prefix;
  private final String partitionTable;
  private final String id;
  private final int octet;
  private final List<Host> hosts = new ArrayList<>();
  private final List<Member> members = new CopyOnWriteArrayList<>();
  private final List<Path> cgroups = new CopyOnWriteArrayList<>();
  private final List<Process> helpers = new CopyOnWriteArrayList<>();
  private final Thread hook = new Thread(this::cleanUp, "hosts-cleanup");
  private boolean closed;

  /** One namespace: its name, its address on the cluster network, and (first host only) the client-link address. */
  record Host(String name, String ns, String address, String clientAddress) {
  }

  private Hosts(String prefix, String id, int octet) {
    this.prefix = prefix;
    this.partitionTable = prefix + "part";
    this.id = id;
    this.octet = octet;
  }

  /** Why this cannot run here (one line), or null: it needs root, iproute2 and nftables. */
  static String unavailable() {
    try {
      Run uid = run(List.of("id", "-u"));
      if (uid.exit != 0 || !"0".equals(uid.out.strip())) {
        return "it needs root (network namespaces, nft rules)";
      }
    } catch (IOException e) {
      return "it needs root (network namespaces, nft rules): " + e.getMessage();
    }
    if (!runs(List.of("ip", "-V"))) {
      return "iproute2 (ip) is not installed";
    }
    if (!runs(List.of("nft", "--version"))) {
      return "nftables (nft) is not installed (make test-tools)";
    }
    return null;
  }

  /**
   * Makes the switch and {@code names.size()} hosts, the first with the client link. Removes leftovers of dead
   * runs first.
   */
  static Hosts create(List<String> names) throws IOException {
    return create(PREFIX, names);
  }

  /**
   * The same with names that start with {@code prefix} (lowercase letters; with the pid and two more characters it
   * must fit a network interface's 15).
   */
  static Hosts create(String prefix, List<String> names) throws IOException {
    removeLeftovers(prefix);
    long pid = ProcessHandle.current().pid();
    Hosts made = new Hosts(prefix, prefix + pid, freeOctet((int) (pid % 256)));
    Runtime.getRuntime().addShutdownHook(made.hook);
    try {
      made.build(names);
    } catch (IOException | RuntimeException e) {
      made.close();
      throw e;
    }
    return made;
  }

  private void build(List<String> names) throws IOException {
    String sw = id + "s";
    String bridge = id + "b";
    must("ip", "netns", "add", sw);
    must("ip", "-n", sw, "link", "set", "lo", "up");
    must("ip", "-n", sw, "link", "add", bridge, "type", "bridge");
    must("ip", "-n", sw, "link", "set", bridge, "up");
    for (int i = 0; i < names.size(); i++) {
      char letter = (char) ('a' + i);
      String ns = id + letter;
      String address = "198.19." + octet + "." + (i + 1);
      must("ip", "netns", "add", ns);
      must("ip", "-n", ns, "link", "set", "lo", "up");
      must("ip", "link", "add", ns + "e", "netns", ns, "type", "veth", "peer", "name", ns + "p", "netns", sw);
      must("ip", "-n", sw, "link", "set", ns + "p", "master", bridge, "up");
      must("ip", "-n", ns, "addr", "add", address + "/25", "dev", ns + "e");
      must("ip", "-n", ns, "link", "set", ns + "e", "up");
      String client = null;
      if (i == 0) {
        client = "198.19." + octet + ".254";
        must("ip", "link", "add", id + "r", "type", "veth", "peer", "name", ns + "r", "netns", ns);
        must("ip", "addr", "add", "198.19." + octet + ".253/30", "dev", id + "r");
        must("ip", "link", "set", id + "r", "up");
        must("ip", "-n", ns, "addr", "add", client + "/30", "dev", ns + "r");
        must("ip", "-n", ns, "link", "set", ns + "r", "up");
      }
      hosts.add(new Host(names.get(i), ns, address, client));
    }
  }

  Host host(String name) {
    return hosts.stream().filter(h -> h.name().equals(name)).findFirst()
      .orElseThrow(() -> new IllegalArgumentException("no host " + name));
  }

  List<Host> hosts() {
    return List.copyOf(hosts);
  }

  /** Every host's cluster address, comma-separated: the members' cluster.members. */
  String memberList() {
    return String.join(",", hosts.stream().map(Host::address).toList());
  }

  /** Drops every packet in and out of the host, loopback excepted: a partition without RST. */
  void cut(Host host) throws IOException {
    String rules = "table inet " + partitionTable + " {\n"
      + "  chain " + prefix + "in { type filter hook input priority -300; policy accept; iifname != \"lo\" drop; }\n"
      + "  chain " + prefix + "out { type filter hook output priority -300; policy accept; oifname != \"lo\" drop; }\n"
      + "}\n";
    Run r = run(List.of("ip", "netns", "exec", host.ns(), "nft", "-f", "-"), rules);
    if (r.exit != 0) {
      throw new IOException("nft in " + host.ns() + " failed: " + r.out);
    }
  }

  void heal(Host host) throws IOException {
    must("ip", "netns", "exec", host.ns(), "nft", "delete", "table", "inet", partitionTable);
  }

  /** The fat jar on a host, with the given arguments; its log goes to target/it-logs/. */
  Member start(Host host, String name, List<String> args) throws IOException {
    Path log = Path.of("target", "it-logs").resolve("hosts-" + name + "-" + System.nanoTime() + ".log");
    Member m = new Member(name, host, ServiceProcess.launch(List.of("ip", "netns", "exec", host.ns()),
      ServiceProcess.jar(), log, List.of("-Xmx384m"), Map.of(), args));
    members.add(m);
    return m;
  }

  /** The jar on a host with these JVM options (the database process: {@code db ...}); its log goes to target/it-logs/. */
  Member start(Host host, String name, List<String> jvmOptions, List<String> args) throws IOException {
    Path log = Path.of("target", "it-logs").resolve("hosts-" + name + "-" + System.nanoTime() + ".log");
    Member m = new Member(name, host, ServiceProcess.launch(List.of("ip", "netns", "exec", host.ns()),
      ServiceProcess.jar(), log, jvmOptions, Map.of(), args));
    members.add(m);
    return m;
  }

  /** Any other process on a host (a helper it needs), stopped with the hosts. */
  Process spawn(Host host, Path log, List<String> command) throws IOException {
    List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", host.ns()));
    all.addAll(command);
    Files.createDirectories(log.toAbsolutePath().getParent());
    Process p = new ProcessBuilder(all).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    helpers.add(p);
    return p;
  }

  /** Runs a short command on a host and returns its exit code and output (curl of a port only that host reaches). */
  String[] exec(Host host, List<String> command) throws IOException {
    List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", host.ns()));
    all.addAll(command);
    Run r = run(all);
    return new String[] {Integer.toString(r.exit), r.out};
  }

  /** Puts the process in a cgroup v1 CPU group of {@code cpus} CPUs (a host of that size); removed by close(). */
  void quota(Member member, double cpus) throws IOException {
    Path group = CGROUP_CPU.resolve(prefix + "-" + ProcessHandle.current().pid() + "-" + member.name.toLowerCase());
    Files.createDirectories(group);
    cgroups.add(group);
    Files.writeString(group.resolve("cpu.cfs_period_us"), "100000");
    Files.writeString(group.resolve("cpu.cfs_quota_us"), String.valueOf((long) (cpus * 100_000)));
    Files.writeString(group.resolve("cgroup.procs"), String.valueOf(member.pid()));
  }

  @Override
  public synchronized void close() {
    cleanUp();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is exiting: the hook runs, or ran, the same clean-up
    }
  }

  private synchronized void cleanUp() {
    if (closed) {
      return;
    }
    closed = true;
    for (Member m : members) {
      m.killTree();
    }
    for (Process p : helpers) {
      p.destroyForcibly();
    }
    for (Member m : members) {
      try {
        m.process.awaitExit(10);
      } catch (Exception e) {
        System.err.println("hosts: " + m.name + " did not exit: " + e.getMessage());
      }
    }
    for (Path group : cgroups) {
      removeCgroup(group);
    }
    quietly("ip", "link", "del", id + "r");
    for (Host h : hosts) {
      quietly("ip", "netns", "del", h.ns());
    }
    quietly("ip", "netns", "del", id + "s");
  }

  /** Namespaces, client links and cgroups of earlier runs whose JVM has exited (a kill -9 of the test, say). */
  private static void removeLeftovers(String prefix) throws IOException {
    Pattern leftoverNs = Pattern.compile(prefix + "(\\d+)[a-z]+");
    Pattern leftoverLink = Pattern.compile("\\d+: (" + prefix + "(\\d+)r)[@:]");
    Pattern leftoverCgroup = Pattern.compile(prefix + "-(\\d+)-[a-z0-9]+");
    Run list = run(List.of("ip", "netns", "list"));
    for (String line : list.out.split("\n")) {
      String name = line.split(" ")[0].strip();
      Matcher m = leftoverNs.matcher(name);
      if (m.matches() && dead(m.group(1))) {
        quietly("ip", "netns", "del", name);
      }
    }
    for (String line : run(List.of("ip", "-o", "link", "show")).out.split("\n")) {
      Matcher m = leftoverLink.matcher(line);
      if (m.find() && dead(m.group(2))) {
        quietly("ip", "link", "del", m.group(1));
      }
    }
    if (Files.isDirectory(CGROUP_CPU)) {
      try (var groups = Files.list(CGROUP_CPU)) {
        for (Path g : groups.toList()) {
          Matcher m = leftoverCgroup.matcher(g.getFileName().toString());
          if (m.matches() && dead(m.group(1))) {
            removeCgroup(g);
          }
        }
      }
    }
  }

  private static boolean dead(String pid) {
    return ProcessHandle.of(Long.parseLong(pid)).isEmpty();
  }

  /** Moves what is left in the group back to the root group, then removes it. */
  private static void removeCgroup(Path group) {
    try {
      if (Files.isReadable(group.resolve("cgroup.procs"))) {
        for (String pid : Files.readAllLines(group.resolve("cgroup.procs"))) {
          if (!pid.isBlank()) {
            try {
              Files.writeString(CGROUP_CPU.resolve("cgroup.procs"), pid.strip());
            } catch (IOException e) {
              // it exited meanwhile
            }
          }
        }
      }
      Files.deleteIfExists(group);
    } catch (IOException e) {
      System.err.println("hosts: could not remove cgroup " + group + ": " + e);
    }
  }

  /** The first third octet from {@code start} on that nothing in the root namespace uses in 198.19.0.0/16. */
  private static int freeOctet(int start) throws IOException {
    String used = run(List.of("ip", "-o", "-4", "addr", "show")).out + run(List.of("ip", "-4", "route", "show")).out;
    for (int i = 0; i < 256; i++) {
      int octet = (start + i) % 256;
      if (!used.contains("198.19." + octet + ".")) {
        return octet;
      }
    }
    throw new IOException("every 198.19.X.0/24 is in use in the root namespace");
  }

  // --- processes ---

  private record Run(int exit, String out) {
  }

  private static Run run(List<String> command) throws IOException {
    return run(command, null);
  }

  private static Run run(List<String> command, String input) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    if (input != null) {
      p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
    }
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", command) + " did not finish in 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    return new Run(p.exitValue(), out);
  }

  private static boolean runs(List<String> command) {
    try {
      return run(command).exit == 0;
    } catch (IOException e) {
      return false;
    }
  }

  private static void must(String... command) throws IOException {
    Run r = run(List.of(command));
    if (r.exit != 0) {
      throw new IOException(String.join(" ", command) + " failed (" + r.exit + "): " + r.out.strip());
    }
  }

  private static void quietly(String... command) {
    try {
      run(List.of(command));
    } catch (IOException e) {
      System.err.println("hosts: " + String.join(" ", command) + ": " + e.getMessage());
    }
  }

  /** One member JVM on a host. */
  static final class Member {
    final String name;
    final Host host;
    private final ServiceProcess process;

    private Member(String name, Host host, ServiceProcess process) {
      this.name = name;
      this.host = host;
      this.process = process;
    }

    /** Waits (at most 120 s) until the member has written its ports file. */
    Member awaitReady() throws Exception {
      return awaitReady(Duration.ofSeconds(120));
    }

    /** Waits (at most {@code max}) until the member has written its ports file. */
    Member awaitReady(Duration max) throws Exception {
      process.awaitReady(max);
      return this;
    }

    String log() throws IOException {
      return process.log();
    }

    int httpPort() {
      return process.httpPort();
    }

    long pid() {
      return process.pid();
    }

    boolean isAlive() {
      return process.isAlive();
    }

    /** The ports file's JSON, once ready. */
    io.vertx.core.json.JsonObject ports() {
      return process.ports();
    }

    /** SIGTERM, and a bounded wait for the exit (a graceful stop: the member drains first). */
    void stop() {
      process.close();
    }

    /** SIGKILL of its children (the database process's MariaDB), then of the JVM, waited for. */
    void killTree() {
      ProcessHandle.of(pid()).ifPresent(h -> h.descendants().forEach(ProcessHandle::destroyForcibly));
      process.kill();
      try {
        process.awaitExit(30);
      } catch (Exception e) {
        System.err.println("hosts: " + name + " did not exit after SIGKILL: " + e.getMessage());
      }
    }

    /** SIGSTOP: the JVM freezes, its sockets stay open (the kernel still acknowledges what arrives). */
    void pause() throws IOException {
      must("kill", "-STOP", String.valueOf(pid()));
    }

    void resume() throws IOException {
      must("kill", "-CONT", String.valueOf(pid()));
    }

    /** SIGKILL, and waits for it to be gone. */
    void kill() throws Exception {
      process.kill();
      process.awaitExit(30);
    }
  }
}
