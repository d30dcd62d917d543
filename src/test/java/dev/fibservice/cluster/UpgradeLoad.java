package dev.fibservice.cluster;

import dev.fibservice.math.Algorithm;
import dev.fibservice.math.Fibonacci;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The mixed load of a rolling upgrade, through a load balancer the whole time: light and heavy {@code /fib}, {@code
 * /db}, people writes, jobs at a steady rate, TCP line clients, a TCP-bridge and a SockJS client. What it counts is
 * what the upgrade promises: no failed HTTP request (a non-2xx it did not ask for, a reset, a timeout, an answer past
 * its own deadline, a wrong number); each job it submitted and each person it wrote, to be checked afterwards; the
 * stream clients' requests answered, or failed with a clear error (or their connection closed) and sent again once
 * connected elsewhere, both counted. The light requests' latencies are kept by phase, for the bench's p99.
 */
public final class UpgradeLoad implements AutoCloseable {

  /** How much load: threads and pauses; the heavy n (recursive: seconds each); the deadlines the members have. */
  public record Shape(int lightThreads, long lightPauseMs, int heavyN, long heavyPauseMs, long dbPauseMs,
                      long peoplePauseMs, long jobPauseMs, int tcpClients, long streamPauseMs, long fibTimeoutMs,
                      long queryTimeoutMs) {
  }

  private static final int MAX_ATTEMPTS = 30;

  private final Shape shape;
  private final int httpPort;
  private final int tcpPort;
  private final int bridgePort;
  private final String run;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running = true;
  private volatile String phase = "before";

  private final Map<String, LongAdder> answered = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> failed = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> resent = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> clearErrors = new ConcurrentHashMap<>();
  private final Queue failures = new Queue();
  /** Job id -> its n. */
  private final Map<String, Integer> jobs = new ConcurrentHashMap<>();
  private final Queue people = new Queue();
  private final AtomicInteger sequence = new AtomicInteger();
  /** Per phase, the light requests' latencies in microseconds. */
  private final Map<String, ConcurrentLinkedQueue<Long>> lightMicros = new ConcurrentHashMap<>();

  public UpgradeLoad(Shape shape, int httpPort, int tcpPort, int bridgePort) {
    this.shape = shape;
    this.httpPort = httpPort;
    this.tcpPort = tcpPort;
    this.bridgePort = bridgePort;
    this.run = Long.toString(System.currentTimeMillis(), 36);
  }

  public UpgradeLoad start() {
    for (int i = 0; i < shape.lightThreads(); i++) {
      loop("light-" + i, shape.lightPauseMs(), this::light);
    }
    loop("heavy", shape.heavyPauseMs(), this::heavy);
    loop("db", shape.dbPauseMs(), this::db);
    loop("people", shape.peoplePauseMs(), this::person);
    loop("jobs", shape.jobPauseMs(), this::job);
    for (int i = 0; i < shape.tcpClients(); i++) {
      stream("tcp-" + i, new LineClient());
    }
    stream("bridge", new BridgeClient());
    stream("sockjs", new SockJsClient());
    return this;
  }

  /** The phase the light latencies are counted in from now on (before, during, after). */
  public void phase(String name) {
    phase = name;
  }

  // ---- HTTP ------------------------------------------------------------------------------------------------------

  private void light() {
    int n = ThreadLocalRandom.current().nextInt(0, 300);
    long t0 = System.nanoTime();
    if (fib("light", n, "doubling")) {
      lightMicros.computeIfAbsent(phase, p -> new ConcurrentLinkedQueue<>()).add((System.nanoTime() - t0) / 1000);
    }
  }

  private void heavy() {
    fib("heavy", shape.heavyN(), "recursive");
  }

  private boolean fib(String kind, int n, String algorithm) {
    JsonObject body = call(kind, HttpRequest.newBuilder(uri("/fib/" + n + "?algorithm=" + algorithm)).GET(), 200,
      shape.fibTimeoutMs());
    if (body == null) {
      return false;
    }
    return check(kind, expected(n).equals(body.getString("value")), "F(" + n + ") " + algorithm + " said " + body);
  }

  private void db() {
    JsonObject body = call("db", HttpRequest.newBuilder(uri("/db")).GET(), 200, shape.queryTimeoutMs());
    if (body != null) {
      check("db", Integer.valueOf(1).equals(body.getInteger("value")), "/db said " + body);
    }
  }

  private void person() {
    String name = "upgrade-" + run + "-" + sequence.incrementAndGet();
    JsonObject person = new JsonObject().put("name", name).put("age", name.length()).put("career", "upgrade");
    if (call("people", post("/people", person), 201, shape.queryTimeoutMs()) != null) {
      people.add(name);
    }
  }

  private void job() {
    int n = 2000 + sequence.incrementAndGet();
    JsonObject body = call("jobs", post("/jobs", new JsonObject().put("n", n)), 202, shape.queryTimeoutMs());
    if (body != null && check("jobs", body.getString("id") != null, "POST /jobs said " + body)) {
      jobs.put(body.getString("id"), n);
    }
  }

  private HttpRequest.Builder post(String path, JsonObject body) {
    return HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body.encode()));
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + httpPort + path);
  }

  /**
   * One request; its JSON body when it got the status wanted within its deadline, else null with the failure
   * counted. The client waits 15 s past the deadline, so that a late answer is seen as late rather than as a timeout.
   */
  private JsonObject call(String kind, HttpRequest.Builder request, int want, long deadlineMs) {
    long t0 = System.nanoTime();
    HttpResponse<String> response;
    try {
      response = http.send(request.timeout(Duration.ofMillis(deadlineMs + 15_000)).build(),
        HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return fail(kind, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    if (response.statusCode() != want) {
      return fail(kind, response.statusCode() + " " + response.body());
    }
    if (ms > deadlineMs) {
      return fail(kind, "answered in " + ms + " ms, past its deadline of " + deadlineMs + " ms");
    }
    count(answered, kind);
    try {
      return new JsonObject(response.body());
    } catch (RuntimeException e) {
      return fail(kind, "not JSON: " + response.body());
    }
  }

  private JsonObject fail(String kind, String why) {
    count(failed, kind);
    failures.add(kind + ": " + why);
    return null;
  }

  private boolean check(String kind, boolean ok, String why) {
    if (!ok) {
      fail(kind, why);
    }
    return ok;
  }

  // ---- the stream clients -----------------------------------------------------------------------------------------

  /** A client of a connection that its front may close: one request at a time, resent once connected again. */
  private interface Connection {
    void connect() throws Exception;

    /** The answer, or null when the connection closed first; throws on a clear error the server sent. */
    String ask(int n) throws Exception;

    void close();
  }

  /** A clear error a front sent (it leaves, it is busy): the request is sent again on a new connection. */
  private static final class ClearError extends Exception {
    ClearError(String message) {
      super(message);
    }
  }

  private void stream(String kind, Connection connection) {
    loop(kind, shape.streamPauseMs(), () -> {
      int n = ThreadLocalRandom.current().nextInt(0, 200);
      for (int attempt = 1; attempt <= MAX_ATTEMPTS && running; attempt++) {
        try {
          if (attempt > 1) {
            connection.close();
            Thread.sleep(100);
            connection.connect();
          }
          String value = connection.ask(n);
          if (value != null) {
            check(kind, expected(n).equals(value), "F(" + n + ") said " + value);
            count(answered, kind);
            return;
          }
          count(resent, kind);
        } catch (ClearError e) {
          count(clearErrors, kind);
          count(resent, kind);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (Exception e) {
          // refused or reset while its front went: connected again and sent again
          count(resent, kind);
        }
      }
      if (running) {
        fail(kind, "F(" + n + ") not answered in " + MAX_ATTEMPTS + " attempts");
      }
    }, connection);
  }

  /** The TCP line protocol. */
  private final class LineClient implements Connection {
    private Socket socket;
    private BufferedReader in;

    @Override
    public void connect() throws IOException {
      socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", tcpPort), 5000);
      socket.setSoTimeout((int) shape.fibTimeoutMs() + 15_000);
      in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    @Override
    public String ask(int n) throws Exception {
      if (socket == null) {
        connect();
      }
      socket.getOutputStream().write((n + "\n").getBytes(StandardCharsets.UTF_8));
      String line = in.readLine();
      if (line != null && line.startsWith("[Error]")) {
        throw new ClearError(line);
      }
      return line;
    }

    @Override
    public void close() {
      closeQuietly(socket);
      socket = null;
    }
  }

  /** The TCP event-bus bridge: 4-byte length and JSON. */
  private final class BridgeClient implements Connection {
    private Socket socket;
    private DataInputStream in;
    private int replies;

    @Override
    public void connect() throws IOException {
      socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", bridgePort), 5000);
      socket.setSoTimeout((int) shape.fibTimeoutMs() + 15_000);
      in = new DataInputStream(socket.getInputStream());
    }

    @Override
    public String ask(int n) throws Exception {
      if (socket == null) {
        connect();
      }
      String reply = "r" + (++replies);
      byte[] json = new JsonObject().put("type", "send").put("address", "fib.compute").put("replyAddress", reply)
        .put("body", new JsonObject().put("n", n)).encode().getBytes(StandardCharsets.UTF_8);
      OutputStream out = socket.getOutputStream();
      out.write(ByteBuffer.allocate(4).putInt(json.length).array());
      out.write(json);
      out.flush();
      JsonObject frame;
      try {
        byte[] body = new byte[in.readInt()];
        in.readFully(body);
        frame = new JsonObject(new String(body, StandardCharsets.UTF_8));
      } catch (EOFException e) {
        return null;
      }
      if ("err".equals(frame.getString("type"))) {
        throw new ClearError(frame.encode());
      }
      return frame.getJsonObject("body", new JsonObject()).getString("value");
    }

    @Override
    public void close() {
      closeQuietly(socket);
      socket = null;
    }
  }

  /** The SockJS bridge on its plain WebSocket transport, through the load balancer's WebSocket upgrade. */
  private final class SockJsClient implements Connection, WebSocket.Listener {
    private final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
    private final ByteArrayOutputStream binary = new ByteArrayOutputStream();
    private final StringBuilder text = new StringBuilder();
    private WebSocket socket;
    private int replies;

    @Override
    public void connect() throws Exception {
      frames.clear();
      socket = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create("ws://127.0.0.1:" + httpPort + "/eventbus/websocket"), this).get(10, TimeUnit.SECONDS);
    }

    @Override
    public String ask(int n) throws Exception {
      if (socket == null) {
        connect();
      }
      String reply = "s" + (++replies);
      socket.sendText(new JsonObject().put("type", "send").put("address", "fib.compute").put("replyAddress", reply)
        .put("body", new JsonObject().put("n", n)).encode(), true).get(10, TimeUnit.SECONDS);
      JsonObject frame = frames.poll(shape.fibTimeoutMs() + 15_000, TimeUnit.MILLISECONDS);
      if (frame == null || frame.containsKey("closed")) {
        return null;
      }
      if ("err".equals(frame.getString("type"))) {
        throw new ClearError(frame.encode());
      }
      return frame.getJsonObject("body", new JsonObject()).getString("value");
    }

    @Override
    public void close() {
      if (socket != null) {
        socket.abort();
      }
      socket = null;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        frames.add(new JsonObject(text.toString()));
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      binary.writeBytes(bytes);
      if (last) {
        frames.add(new JsonObject(binary.toString(StandardCharsets.UTF_8)));
        binary.reset();
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      frames.add(new JsonObject().put("closed", status));
      return ws.sendClose(WebSocket.NORMAL_CLOSURE, "");
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      frames.add(new JsonObject().put("closed", error.toString()));
    }
  }

  // ---- checks afterwards ------------------------------------------------------------------------------------------

  /**
   * Waits (at most {@code within}) until every job submitted is DONE, and checks its digits; the failures it finds
   * are added to {@link #failures()}. Returns how many jobs ran more than once (a hand-back's recomputation).
   */
  public int checkJobs(Duration within) throws Exception {
    long end = System.nanoTime() + within.toNanos();
    int again = 0;
    for (Map.Entry<String, Integer> job : new TreeMap<>(jobs).entrySet()) {
      JsonObject status;
      while (true) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/jobs/" + job.getKey())).build(),
          HttpResponse.BodyHandlers.ofString());
        status = r.statusCode() == 200 ? new JsonObject(r.body()) : new JsonObject().put("status", r.statusCode());
        if (!"PENDING".equals(status.getString("status")) && !"RUNNING".equals(status.getString("status"))
          || System.nanoTime() > end) {
          break;
        }
        Thread.sleep(200);
      }
      String digits = expected(job.getValue());
      if (!"DONE".equals(status.getString("status")) || status.getInteger("digits", -1) != digits.length()) {
        failures.add("job " + job.getKey() + " F(" + job.getValue() + "): " + status.encode());
        continue;
      }
      HttpResponse<String> result = http.send(HttpRequest.newBuilder(uri("/jobs/" + job.getKey() + "/result")).build(),
        HttpResponse.BodyHandlers.ofString());
      if (!digits.equals(result.body().strip())) {
        failures.add("job " + job.getKey() + " F(" + job.getValue() + "): wrong digits");
      }
      if (status.getInteger("attempts", 1) > 1) {
        again++;
      }
    }
    return again;
  }

  /** Checks that every person written is there; the missing ones are added to {@link #failures()}. */
  public void checkPeople() throws Exception {
    for (String name : people.all()) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/people/"
        + java.net.URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20"))).build(),
        HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        failures.add("person " + name + " written, then: " + r.statusCode() + " " + r.body());
      }
    }
  }

  public List<String> failures() {
    return failures.all();
  }

  public int jobsSubmitted() {
    return jobs.size();
  }

  public int peopleWritten() {
    return people.all().size();
  }

  public long answered(String kind) {
    return sum(answered, kind);
  }

  public long failed() {
    return failed.values().stream().mapToLong(LongAdder::sum).sum();
  }

  /** Each kind's counts: answered, failed; the stream clients' resent and clear errors. */
  public Map<String, String> counts() {
    Map<String, String> out = new TreeMap<>();
    for (String kind : answered.keySet()) {
      String prefix = kind.replaceAll("-\\d+$", "");
      out.merge(prefix, "", (a, b) -> a);
    }
    for (String kind : new ArrayList<>(out.keySet())) {
      out.put(kind, "answered " + sumPrefix(answered, kind) + ", failed " + sumPrefix(failed, kind)
        + (sumPrefix(resent, kind) + sumPrefix(clearErrors, kind) > 0 || isStream(kind)
          ? ", resent " + sumPrefix(resent, kind) + " (after a clear error: " + sumPrefix(clearErrors, kind) + ")" : ""));
    }
    return out;
  }

  private static boolean isStream(String kind) {
    return kind.equals("tcp") || kind.equals("bridge") || kind.equals("sockjs");
  }

  /** The light requests' latency percentile (0..100) in a phase, in ms; -1 when the phase has none. */
  public double lightPercentileMs(String phase, double percentile) {
    ConcurrentLinkedQueue<Long> q = lightMicros.get(phase);
    if (q == null || q.isEmpty()) {
      return -1;
    }
    List<Long> all = new ArrayList<>(q);
    Collections.sort(all);
    int i = (int) Math.ceil(percentile / 100.0 * all.size()) - 1;
    return all.get(Math.max(0, Math.min(i, all.size() - 1))) / 1000.0;
  }

  public int lightCount(String phase) {
    ConcurrentLinkedQueue<Long> q = lightMicros.get(phase);
    return q == null ? 0 : q.size();
  }

  private static long sum(Map<String, LongAdder> counts, String kind) {
    LongAdder a = counts.get(kind);
    return a == null ? 0 : a.sum();
  }

  private static long sumPrefix(Map<String, LongAdder> counts, String prefix) {
    return counts.entrySet().stream().filter(e -> e.getKey().replaceAll("-\\d+$", "").equals(prefix))
      .mapToLong(e -> e.getValue().sum()).sum();
  }

  private static void count(Map<String, LongAdder> counts, String kind) {
    counts.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  private static final Map<Integer, String> VALUES = new ConcurrentHashMap<>();

  private static String expected(int n) {
    return VALUES.computeIfAbsent(n, k -> Fibonacci.compute(Algorithm.DOUBLING, k, () -> false).toString());
  }

  private void loop(String name, long pauseMs, Runnable step) {
    loop(name, pauseMs, step, null);
  }

  private void loop(String name, long pauseMs, Runnable step, Connection connection) {
    Thread t = new Thread(() -> {
      try {
        while (running) {
          step.run();
          Thread.sleep(pauseMs);
        }
      } catch (InterruptedException e) {
        // stopped
      } finally {
        if (connection != null) {
          connection.close();
        }
      }
    }, "upgrade-load-" + name);
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  private static void closeQuietly(Socket socket) {
    try {
      if (socket != null) {
        socket.close();
      }
    } catch (IOException e) {
      // closing
    }
  }

  /**
   * Stops the load: nothing new is sent, and each request in flight still counts: waited for, at most its deadline
   * and a margin.
   */
  @Override
  public void close() throws InterruptedException {
    long end = System.currentTimeMillis() + shape.fibTimeoutMs() + 20_000;
    running = false;
    for (Thread t : threads) {
      t.join(Math.max(1, end - System.currentTimeMillis()));
      t.interrupt();
    }
  }

  /** A list, safe across threads. */
  private static final class Queue {
    private final List<String> items = Collections.synchronizedList(new ArrayList<>());

    void add(String item) {
      items.add(item);
    }

    List<String> all() {
      synchronized (items) {
        return List.copyOf(items);
      }
    }
  }
}
