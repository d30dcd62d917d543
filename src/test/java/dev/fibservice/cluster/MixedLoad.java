package dev.fibservice.cluster;

import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Recorder;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The mixed load of the soak and the chaos run: light and heavy {@code /fib}, big {@code /fib} (checked by hash),
 * {@code /hello}, {@code /db}, people reads and writes, jobs, TCP lines, TCP-bridge and SockJS clients that connect,
 * call and drop (some with a reset, some before their answer), and HTTP requests reset mid-call, against one front.
 *
 * <p>The operations come from a seed: operation {@code k} of seed {@code s} is always the same kind with the same
 * input ({@link Plan}), so a seed reproduces the request sequence, and every answer is checked by this client against
 * its own reference ({@link Reference}: F(n) by {@link BigInteger}, a SHA-256 of the digits for big n). Sent at a fixed
 * rate from a dispatcher thread (the latency of a late send counts from when it was due) or by a fixed number of
 * clients back to back (to measure capacity). Each finished operation goes to the {@link Consumer} given, as an
 * {@link Op}: start, end, outcome and value, the history the chaos checker reads.
 */
public final class MixedLoad implements AutoCloseable {

  /** What an operation does. */
  public enum Kind { LIGHT_FIB, HEAVY_FIB, BIG_FIB, HELLO, DB, PEOPLE_READ, PEOPLE_WRITE, JOB, JOB_STATUS, TCP, BRIDGE,
    SOCKJS, HTTP_RESET }

  /**
   * How an operation ended. OK: answered and the answer checked right; WRONG: answered with a wrong value (a
   * correctness failure); REFUSED: a definite refusal (an error status or error frame); UNKNOWN: no answer (timeout,
   * connection lost, or a 5xx on a write that may have committed); ABANDONED: the client dropped it on purpose.
   */
  public enum Outcome { OK, WRONG, REFUSED, UNKNOWN, ABANDONED }

  /**
   * One finished operation: its place in the seed's sequence, kind and input, when it was due, started and ended
   * (System.nanoTime()), how it ended, the value or its hash (or the id a write created), the answer's details.
   */
  public record Op(long seq, Kind kind, String input, long dueNanos, long startNanos, long endNanos, Outcome outcome,
                   int status, String value, String detail) {
    public long micros() {
      return TimeUnit.NANOSECONDS.toMicros(endNanos - dueNanos);
    }

    public JsonObject toJson(long t0) {
      return new JsonObject().put("seq", seq).put("kind", kind.name()).put("input", input)
        .put("dueMs", (dueNanos - t0) / 1e6).put("startMs", (startNanos - t0) / 1e6).put("endMs", (endNanos - t0) / 1e6)
        .put("outcome", outcome.name()).put("status", status).put("value", value).put("detail", detail);
    }
  }

  /** Where the load goes: the front's address and its ports. */
  public record Target(String host, int httpPort, int tcpPort, int bridgePort) {
    String http(String path) {
      return "http://" + host + ":" + httpPort + path;
    }
  }

  /** The share of each kind, in parts of 1000, and how people writes choose their names. */
  public record Mix(Map<Kind, Integer> parts, boolean uniqueWrites) {
    /** The soak's and chaos run's mix: mostly computations, every kind present. */
    public static Mix standard(boolean uniqueWrites) {
      Map<Kind, Integer> p = new EnumMap<>(Kind.class);
      p.put(Kind.LIGHT_FIB, 230);
      p.put(Kind.HEAVY_FIB, 100);
      p.put(Kind.BIG_FIB, 50);
      p.put(Kind.HELLO, 130);
      p.put(Kind.DB, 80);
      p.put(Kind.PEOPLE_READ, 80);
      p.put(Kind.PEOPLE_WRITE, 60);
      p.put(Kind.JOB, 15);
      p.put(Kind.JOB_STATUS, 25);
      p.put(Kind.TCP, 90);
      p.put(Kind.BRIDGE, 60);
      p.put(Kind.SOCKJS, 60);
      p.put(Kind.HTTP_RESET, 20);
      return new Mix(p, uniqueWrites);
    }
  }

  /** Operation k of a seed: a kind and an input that are functions of (seed, k) alone. */
  public static final class Plan {
    /** Big n are taken from a fixed set, so that the result caches reach their steady state within minutes. */
    static final int[] BIG_N = bigN();
    private final long seed;
    private final Kind[] table = new Kind[1000];

    public Plan(long seed, Mix mix) {
      this.seed = seed;
      int i = 0;
      for (Map.Entry<Kind, Integer> e : mix.parts().entrySet()) {
        for (int j = 0; j < e.getValue(); j++) {
          table[i++] = e.getKey();
        }
      }
      if (i != table.length) {
        throw new IllegalArgumentException("the mix's parts add up to " + i + ", not 1000");
      }
    }

    private static int[] bigN() {
      int[] n = new int[24];
      for (int i = 0; i < n.length; i++) {
        n[i] = 50_001 + i * 4_000;
      }
      return n;
    }

    /** The random source of operation k (its own, so that any k can be drawn again without the others). */
    SplittableRandom random(long k) {
      return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + k);
    }

    public Kind kind(long k) {
      return table[random(k).nextInt(table.length)];
    }

    /** The input line of operation k: what a reader of the history sees, and all the operation needs. */
    public String input(long k, boolean uniqueWrites) {
      SplittableRandom r = random(k);
      Kind kind = table[r.nextInt(table.length)];
      return switch (kind) {
        case LIGHT_FIB -> r.nextBoolean() ? "/fib/" + r.nextInt(0, 1000) : "/fib/" + r.nextInt(15, 21) + "?algorithm=recursive";
        case HEAVY_FIB -> "/fib/" + r.nextInt(23, 27) + "?algorithm=recursive";
        case BIG_FIB -> "/fib/" + BIG_N[r.nextInt(BIG_N.length)];
        case HELLO -> "/hello";
        case DB -> "/db";
        case PEOPLE_READ -> r.nextBoolean() ? "/people?limit=20&offset=" + r.nextInt(0, 40) : "/people/p-" + r.nextInt(200);
        case PEOPLE_WRITE -> uniqueWrites ? writeUnique(r, k) : writeBounded(r);
        case JOB -> "{\"n\":" + r.nextInt(1_000, 30_000) + "}";
        case JOB_STATUS -> "latest";
        case TCP -> tcpLines(r) + "|" + ending(r);
        case BRIDGE, SOCKJS -> r.nextInt(0, 200) + (r.nextInt(4) == 0 ? " recursive" : "") + "|" + ending(r);
        case HTTP_RESET -> "/fib/" + r.nextInt(24, 27) + "?algorithm=recursive";
      };
    }

    /** A new person every time (the chaos checker looks for each), or, one in ten, a bad one that must be refused. */
    private String writeUnique(SplittableRandom r, long k) {
      int age = r.nextInt(10) == 0 ? 151 + r.nextInt(100) : r.nextInt(0, 151);
      return "POST p-" + Long.toHexString(seed) + "-" + k + " " + age;
    }

    /** A person of a fixed set of 200, added, changed or removed: the table keeps its size over an hour. */
    private static String writeBounded(SplittableRandom r) {
      String verb = switch (r.nextInt(3)) {
        case 0 -> "POST";
        case 1 -> "PUT";
        default -> "DELETE";
      };
      return verb + " p-" + r.nextInt(200) + " " + r.nextInt(0, 151);
    }

    private static String tcpLines(SplittableRandom r) {
      int lines = r.nextInt(1, 4);
      List<String> l = new ArrayList<>();
      for (int i = 0; i < lines; i++) {
        l.add(r.nextInt(4) == 0 ? r.nextInt(15, 23) + " recursive" : Integer.toString(r.nextInt(0, 500)));
      }
      return String.join(",", l);
    }

    /** How a socket client leaves: a clean close, a reset after its answers, or a reset before them. */
    private static String ending(SplittableRandom r) {
      int e = r.nextInt(10);
      return e < 7 ? "close" : e < 9 ? "reset" : "reset-early";
    }

    /** SHA-256 over the first {@code count} operations' kinds and inputs: equal for equal seeds. */
    public String digest(long count, boolean uniqueWrites) {
      MessageDigest md = sha256();
      for (long k = 0; k < count; k++) {
        md.update((k + " " + input(k, uniqueWrites) + "\n").getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(md.digest());
    }
  }

  /** F(n) by this client's own means (fast doubling on BigInteger), cached, and the SHA-256 of its digits. */
  public static final class Reference {
    private static final Map<Integer, String> DIGITS = new ConcurrentHashMap<>();

    private Reference() {
    }

    public static String fib(int n) {
      return DIGITS.computeIfAbsent(n, k -> doubling(k)[0].toString());
    }

    public static String sha(int n) {
      return sha256(fib(n));
    }

    /** {F(n), F(n+1)}. */
    static BigInteger[] doubling(int n) {
      BigInteger a = BigInteger.ZERO;
      BigInteger b = BigInteger.ONE;
      for (int bit = Integer.SIZE - 1 - Integer.numberOfLeadingZeros(Math.max(n, 1)); bit >= 0; bit--) {
        BigInteger c = a.multiply(b.shiftLeft(1).subtract(a));
        BigInteger d = a.multiply(a).add(b.multiply(b));
        if (((n >>> bit) & 1) == 0) {
          a = c;
          b = d;
        } else {
          a = d;
          b = c.add(d);
        }
      }
      return new BigInteger[] {a, b};
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String sha256(String s) {
    return HexFormat.of().formatHex(sha256().digest(s.getBytes(StandardCharsets.US_ASCII)));
  }

  // ---- running ---------------------------------------------------------------------------------------------------

  private final Target target;
  private final Plan plan;
  private final Mix mix;
  private final Duration timeout;
  private final Consumer<Op> sink;
  private final HttpClient http;
  private final ThreadPoolExecutor pool;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong next = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private final ConcurrentLinkedQueue<String> jobIds = new ConcurrentLinkedQueue<>();
  private final Map<Kind, Recorder> latency = new EnumMap<>(Kind.class);
  private final Map<Outcome, AtomicLong> outcomes = new EnumMap<>(Outcome.class);
  private final List<Thread> threads = new ArrayList<>();
  private final byte[] hello;

  /**
   * @param threads the clients: at most this many operations in flight (a fixed-rate run that needs more counts the
   *                rest as skipped, never queues them without bound)
   * @param timeout each operation's own bound (connect, answer)
   */
  public MixedLoad(Target target, long seed, Mix mix, int threads, Duration timeout, Consumer<Op> sink)
    throws Exception {
    this.target = target;
    this.plan = new Plan(seed, mix);
    this.mix = mix;
    this.timeout = timeout;
    this.sink = sink;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
      .build();
    this.pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(threads),
      r -> {
        Thread t = new Thread(r, "mixed-load");
        t.setDaemon(true);
        return t;
      });
    for (Kind k : Kind.values()) {
      latency.put(k, new Recorder(3));
    }
    for (Outcome o : Outcome.values()) {
      outcomes.put(o, new AtomicLong());
    }
    this.hello = http.send(HttpRequest.newBuilder(URI.create(target.http("/hello"))).timeout(timeout).build(),
      HttpResponse.BodyHandlers.ofByteArray()).body();
  }

  public Plan plan() {
    return plan;
  }

  /** Sends at {@code perSecond} from now until {@link #stop()}; the latency of an operation counts from when it was due. */
  public void startAtRate(double perSecond) {
    long period = (long) (1e9 / perSecond);
    Thread d = new Thread(() -> {
      long t0 = System.nanoTime();
      long i = 0;
      while (running.get()) {
        long due = t0 + i++ * period;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          try {
            TimeUnit.NANOSECONDS.sleep(wait);
          } catch (InterruptedException e) {
            return;
          }
        }
        long k = next.getAndIncrement();
        try {
          pool.execute(() -> run(k, due));
        } catch (RejectedExecutionException e) {
          skipped.incrementAndGet();
        }
      }
    }, "mixed-load-dispatch");
    d.setDaemon(true);
    d.start();
    threads.add(d);
  }

  /** {@code clients} clients, each sending its next operation when the last one ended, until {@link #stop()}. */
  public void startClosed(int clients) {
    for (int c = 0; c < clients; c++) {
      Thread t = new Thread(() -> {
        while (running.get()) {
          long k = next.getAndIncrement();
          run(k, System.nanoTime());
        }
      }, "mixed-load-client-" + c);
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
  }

  /** Stops sending and waits (bounded) for what is in flight. */
  public void stop() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.join(timeout.toMillis() + 10_000);
    }
    pool.shutdown();
    pool.awaitTermination(timeout.toSeconds() + 10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    stop();
    pool.shutdownNow();
  }

  /** Operations sent so far (their sequence numbers are 0 to this, less one). */
  public long sent() {
    return next.get();
  }

  /** Operations a fixed-rate run could not send because every client was busy. */
  public long skipped() {
    return skipped.get();
  }

  public Map<Outcome, Long> outcomes() {
    Map<Outcome, Long> m = new EnumMap<>(Outcome.class);
    outcomes.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  /** The latencies of each kind since the last call (HdrHistogram's interval recorder). */
  public Map<Kind, org.HdrHistogram.Histogram> interval() {
    Map<Kind, org.HdrHistogram.Histogram> m = new EnumMap<>(Kind.class);
    latency.forEach((k, r) -> m.put(k, r.getIntervalHistogram()));
    return m;
  }

  private void run(long k, long due) {
    String input = plan.input(k, mix.uniqueWrites());
    Kind kind = plan.kind(k);
    long start = System.nanoTime();
    Result r;
    try {
      r = switch (kind) {
        case LIGHT_FIB, HEAVY_FIB -> fib(input, false);
        case BIG_FIB -> fib(input, true);
        case HELLO -> hello();
        case DB -> db();
        case PEOPLE_READ -> peopleRead(input);
        case PEOPLE_WRITE -> peopleWrite(input);
        case JOB -> job(input);
        case JOB_STATUS -> jobStatus();
        case TCP -> tcp(input);
        case BRIDGE -> bridge(input);
        case SOCKJS -> sockJs(input, k);
        case HTTP_RESET -> httpReset(input);
      };
    } catch (HttpTimeoutException | java.net.SocketTimeoutException | TimeoutException e) {
      r = new Result(Outcome.UNKNOWN, 0, null, "timeout: " + e.getMessage());
    } catch (IOException | ExecutionException e) {
      r = new Result(Outcome.UNKNOWN, 0, null, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      r = new Result(Outcome.UNKNOWN, 0, null, "interrupted");
    } catch (RuntimeException e) {
      r = new Result(Outcome.UNKNOWN, 0, null, "client: " + e);
    }
    long end = System.nanoTime();
    latency.get(kind).recordValue(Math.max(1, TimeUnit.NANOSECONDS.toMicros(end - due)));
    outcomes.get(r.outcome).incrementAndGet();
    sink.accept(new Op(k, kind, input, due, start, end, r.outcome, r.status, r.value, r.detail));
  }

  /** What one operation saw. */
  private record Result(Outcome outcome, int status, String value, String detail) {
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(target.http(path))).timeout(timeout).build(),
      HttpResponse.BodyHandlers.ofString());
  }

  private static Result refusedOrUnknown(HttpResponse<String> r) {
    String body = r.body().length() > 300 ? r.body().substring(0, 300) : r.body();
    return new Result(Outcome.REFUSED, r.statusCode(), null, body);
  }

  private Result fib(String path, boolean big) throws IOException, InterruptedException {
    int n = Integer.parseInt(path.substring("/fib/".length()).replaceAll("\\?.*", ""));
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target.http(path))).timeout(timeout);
    if (big) {
      b.header("Accept", "text/plain");
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      return refusedOrUnknown(r);
    }
    if (big) {
      String sha = sha256(r.body().strip());
      return new Result(sha.equals(Reference.sha(n)) ? Outcome.OK : Outcome.WRONG, 200, "sha256:" + sha, null);
    }
    JsonObject j = new JsonObject(r.body());
    String value = j.getString("value");
    String worker = j.getString("worker", "");
    return new Result(Reference.fib(n).equals(value) ? Outcome.OK : Outcome.WRONG, 200, value, worker);
  }

  private Result hello() throws IOException, InterruptedException {
    HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(target.http("/hello"))).timeout(timeout).build(),
      HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      return new Result(Outcome.REFUSED, r.statusCode(), null, new String(r.body(), StandardCharsets.UTF_8));
    }
    return new Result(java.util.Arrays.equals(hello, r.body()) ? Outcome.OK : Outcome.WRONG, 200, null, null);
  }

  private Result db() throws IOException, InterruptedException {
    HttpResponse<String> r = get("/db");
    if (r.statusCode() != 200) {
      return refusedOrUnknown(r);
    }
    return new Result(new JsonObject(r.body()).getInteger("value", -1) == 1 ? Outcome.OK : Outcome.WRONG, 200, "1", null);
  }

  private Result peopleRead(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = get(path);
    if (r.statusCode() == 200 || r.statusCode() == 404 && path.startsWith("/people/")) {
      return new Result(Outcome.OK, r.statusCode(), null, null);
    }
    return refusedOrUnknown(r);
  }

  /**
   * {@code VERB name age}. A 2xx is acknowledged; a 4xx is a definite refusal; a 5xx or no answer may have committed
   * (the database's timeout may fire after the write took), so it is UNKNOWN.
   */
  private Result peopleWrite(String input) throws IOException, InterruptedException {
    String[] f = input.split(" ");
    String name = f[1];
    JsonObject person = new JsonObject().put("name", name).put("age", Integer.parseInt(f[2])).put("career", "tester");
    HttpRequest.Builder b = HttpRequest.newBuilder().timeout(timeout).header("Content-Type", "application/json");
    HttpRequest req = switch (f[0]) {
      case "POST" -> b.uri(URI.create(target.http("/people"))).POST(HttpRequest.BodyPublishers.ofString(person.encode()))
        .build();
      case "PUT" -> b.uri(URI.create(target.http("/people/" + name))).PUT(HttpRequest.BodyPublishers.ofString(
        person.encode())).build();
      default -> b.uri(URI.create(target.http("/people/" + name))).DELETE().build();
    };
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 == 2) {
      return new Result(Outcome.OK, r.statusCode(), name, null);
    }
    if (r.statusCode() / 100 == 4) {
      return refusedOrUnknown(r);
    }
    return new Result(Outcome.UNKNOWN, r.statusCode(), null, r.body());
  }

  /** A job accepted is 202 with its id (the value); the chaos checker looks each one up at the end. */
  private Result job(String body) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(target.http("/jobs"))).timeout(timeout)
      .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
      HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 202) {
      String id = new JsonObject(r.body()).getString("id");
      jobIds.add(id);
      while (jobIds.size() > 100) {
        jobIds.poll();
      }
      return new Result(Outcome.OK, 202, id, null);
    }
    if (r.statusCode() / 100 == 4) {
      return refusedOrUnknown(r);
    }
    return new Result(Outcome.UNKNOWN, r.statusCode(), null, r.body());
  }

  private Result jobStatus() throws IOException, InterruptedException {
    String id = jobIds.peek();
    HttpResponse<String> r = get(id == null ? "/jobs/00000000000000000000000000000000" : "/jobs/" + id);
    if (r.statusCode() == 200 || id == null && r.statusCode() == 404) {
      return new Result(Outcome.OK, r.statusCode(), id, null);
    }
    return refusedOrUnknown(r);
  }

  private Socket connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress(target.host(), port), 5000);
    s.setSoTimeout((int) timeout.toMillis());
    return s;
  }

  /** Ends a socket client as its input says: FIN, or RST (SO_LINGER 0). */
  private static void end(Socket s, String ending) throws IOException {
    if (!"close".equals(ending)) {
      s.setSoLinger(true, 0);
    }
    s.close();
  }

  /** {@code lines|ending}: the lines sent at once (pipelined), each answer checked in order. */
  private Result tcp(String input) throws IOException {
    String[] f = input.split("\\|");
    String[] lines = f[0].split(",");
    try (Socket s = connect(target.tcpPort())) {
      OutputStream out = s.getOutputStream();
      out.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      if ("reset-early".equals(f[1])) {
        end(s, f[1]);
        return new Result(Outcome.ABANDONED, 0, null, null);
      }
      InputStream in = s.getInputStream();
      StringBuilder values = new StringBuilder();
      for (String line : lines) {
        String answer = readLine(in);
        if (answer == null) {
          return new Result(Outcome.UNKNOWN, 0, values.toString(), "closed before the answer to '" + line + "'");
        }
        if (answer.startsWith("[Error]")) {
          end(s, f[1]);
          return new Result(Outcome.REFUSED, 0, values.toString(), answer);
        }
        int n = Integer.parseInt(line.split(" ")[0]);
        if (!Reference.fib(n).equals(answer)) {
          end(s, f[1]);
          return new Result(Outcome.WRONG, 0, answer, "line '" + line + "'");
        }
        values.append(values.length() == 0 ? "" : ",").append(answer);
      }
      if ("close".equals(f[1])) {
        out.write("quit\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      end(s, f[1]);
      return new Result(Outcome.OK, 0, values.toString(), null);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        return sb.toString();
      }
      sb.append((char) c);
    }
    return null;
  }

  private static JsonObject send(int n, boolean recursive, String replyAddress) {
    JsonObject body = new JsonObject().put("n", n);
    if (recursive) {
      body.put("algorithm", "recursive");
    }
    return new JsonObject().put("type", "send").put("address", "fib.compute").put("replyAddress", replyAddress)
      .put("body", body);
  }

  /** The answer to a bridge's or SockJS socket's {@code fib.compute}: checked against the reference. */
  private static Result bridgeAnswer(int n, JsonObject frame) {
    if ("err".equals(frame.getString("type"))) {
      return new Result(Outcome.REFUSED, frame.getInteger("failureCode", 0), null, frame.getString("message"));
    }
    String value = frame.getJsonObject("body", new JsonObject()).getString("value");
    return new Result(Reference.fib(n).equals(value) ? Outcome.OK : Outcome.WRONG, 200, value, null);
  }

  /** {@code n [recursive]|ending}: one {@code fib.compute} over the TCP bridge. */
  private Result bridge(String input) throws IOException {
    String[] f = input.split("\\|");
    String[] call = f[0].split(" ");
    int n = Integer.parseInt(call[0]);
    try (Socket s = connect(target.bridgePort())) {
      byte[] frame = send(n, call.length > 1, "r1").encode().getBytes(StandardCharsets.UTF_8);
      OutputStream out = s.getOutputStream();
      out.write(new byte[] {(byte) (frame.length >>> 24), (byte) (frame.length >>> 16), (byte) (frame.length >>> 8),
        (byte) frame.length});
      out.write(frame);
      out.flush();
      if ("reset-early".equals(f[1])) {
        end(s, f[1]);
        return new Result(Outcome.ABANDONED, 0, null, null);
      }
      DataInputStream in = new DataInputStream(s.getInputStream());
      int length = in.readInt();
      if (length < 2 || length > 1 << 20) {
        return new Result(Outcome.WRONG, 0, null, "a frame of " + length + " bytes");
      }
      byte[] reply = in.readNBytes(length);
      Result r = bridgeAnswer(n, new JsonObject(new String(reply, StandardCharsets.UTF_8)));
      end(s, f[1]);
      return r;
    }
  }

  /**
   * {@code n [recursive]|ending}: a WebSocket to the SockJS bridge in SockJS's own framing (what the official client
   * speaks: {@code o} on open, messages as JSON arrays of strings, {@code a[...]} back), one {@code fib.compute}, then
   * gone.
   */
  private Result sockJs(String input, long k) throws IOException, InterruptedException, ExecutionException,
    TimeoutException {
    String[] f = input.split("\\|");
    String[] call = f[0].split(" ");
    int n = Integer.parseInt(call[0]);
    java.util.concurrent.BlockingQueue<String> frames = new java.util.concurrent.LinkedBlockingQueue<>();
    StringBuilder text = new StringBuilder();
    String path = "/eventbus/" + (k % 1000) + "/s" + Long.toHexString(k) + "/websocket";
    WebSocket ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
      .buildAsync(URI.create("ws://" + target.host() + ":" + target.httpPort() + path), new WebSocket.Listener() {
        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
          text.append(data);
          if (last) {
            frames.add(text.toString());
            text.setLength(0);
          }
          w.request(1);
          return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
          frames.add("closed " + code + " " + reason);
          return null;
        }

        @Override
        public void onError(WebSocket w, Throwable error) {
          frames.add("closed " + error);
        }
      }).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    try {
      String open = frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!"o".equals(open)) {
        return new Result(Outcome.UNKNOWN, 0, null, "no open frame: " + open);
      }
      String message = send(n, call.length > 1, "r1").encode();
      ws.sendText(new io.vertx.core.json.JsonArray().add(message).encode(), true)
        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if ("reset-early".equals(f[1])) {
        ws.abort();
        return new Result(Outcome.ABANDONED, 0, null, null);
      }
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        String frame = frames.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (frame == null) {
          throw new TimeoutException("no SockJS answer within " + timeout.toMillis() + " ms");
        }
        if (frame.startsWith("a")) {
          Result r = bridgeAnswer(n, new JsonObject(new io.vertx.core.json.JsonArray(frame.substring(1)).getString(0)));
          if ("close".equals(f[1])) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(timeout.toMillis(), TimeUnit.MILLISECONDS);
          }
          return r;
        }
        if (!frame.equals("h")) {
          return new Result(Outcome.UNKNOWN, 0, null, "SockJS frame " + frame);
        }
      }
    } finally {
      ws.abort();
    }
  }

  /** A heavy request on a raw socket, reset (RST) right after it is sent: the server must cancel its computation. */
  private Result httpReset(String path) throws IOException {
    try (Socket s = connect(target.httpPort())) {
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + target.host() + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      end(s, "reset");
    }
    return new Result(Outcome.ABANDONED, 0, null, null);
  }
}
