package dev.fibservice.math;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * Side-by-side benchmark: BigInteger baseline, this engine (the service's path, digits by doubling in radix 10^18; and
 * the binary doubling plus conversion, warm and with a cold power cache) and GMP (gmpy2 in a python3 child process,
 * timed inside python with perf_counter, runs alternating with the engine's), medians of several runs, printed as a
 * markdown table. After {@code mvn test-compile} run
 * {@code java -cp target/classes:target/test-classes dev.fibservice.compute.BigFibonacciBench [reps]}.
 */
public final class BigFibonacciBench {
  private static final BooleanSupplier NEVER = () -> false;
  private static final int[] NS = {1_000_000, 10_000_000};

  private BigFibonacciBench() {
  }

  private record Row(String impl, int n, double computeMs, double decimalMs, String digest) {
    double total() {
      return computeMs + decimalMs;
    }
  }

  public static void main(String[] args) throws Exception {
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    List<Row> rows = new ArrayList<>();
    Map<Integer, Row> gmpRows = new HashMap<>();
    try (Gmp gmp = Gmp.start()) {
      if (gmp == null) {
        System.out.println("(gmpy2 not available: GMP rows omitted)");
      }
      for (int n : NS) {
        // Engine and GMP runs alternate so both see the same machine load.
        double[][] e = new double[2][reps];
        double[][] g = new double[2][reps];
        String digest = null;
        String gmpDigest = null;
        double[][] b = new double[2][reps];
        String binaryDigest = null;
        for (int i = -3; i < reps; i++) {
          double[] t = new double[2];
          digest = runEngine(n, t, false);
          if (i >= 0) {
            e[0][i] = t[0];
            e[1][i] = t[1];
          }
          binaryDigest = runBinary(n, t, false);
          if (i >= 0) {
            b[0][i] = t[0];
            b[1][i] = t[1];
          }
          if (gmp != null) {
            String[] r = gmp.run(n);
            gmpDigest = r[2];
            if (i >= 0) {
              g[0][i] = Double.parseDouble(r[0]);
              g[1][i] = Double.parseDouble(r[1]);
            }
          }
        }
        rows.add(new Row("engine: digits in radix 10^18 (the service)", n, median(e[0]), median(e[1]), digest));
        rows.add(new Row("engine: binary + conversion", n, median(b[0]), median(b[1]), binaryDigest));
        int coldReps = Math.max(3, reps / 2);
        double[][] cold = new double[2][coldReps];
        String coldDigest = null;
        for (int i = 0; i < coldReps; i++) {
          double[] t = new double[2];
          coldDigest = runBinary(n, t, true);
          cold[0][i] = t[0];
          cold[1][i] = t[1];
        }
        rows.add(new Row("engine: binary + conversion, cold power cache", n, median(cold[0]), median(cold[1]), coldDigest));
        rows.add(baseline(n, n >= 10_000_000 ? 3 : reps));
        if (gmp != null) {
          Row row = new Row("GMP " + gmp.version + " (gmpy2)", n, median(g[0]), median(g[1]), gmpDigest);
          rows.add(row);
          gmpRows.put(n, row);
        }
      }
    }
    print(rows, gmpRows);
    cancellationLatency();
  }

  /** Time from setting the flag to CancellationException, flag set at several points of digits(10^7). */
  private static void cancellationLatency() throws Exception {
    System.out.println();
    System.out.println("| cancel after ms | phase | latency ms |");
    System.out.println("|---:|---|---:|");
    for (long delay : new long[] {2, 5, 10, 20, 30, 40, 60, 80, 120}) {
      AtomicBoolean flag = new AtomicBoolean();
      AtomicLong endedAt = new AtomicLong();
      AtomicReference<String> phase = new AtomicReference<>("digits");
      Thread t = new Thread(() -> {
        try {
          BigFibonacci.digits(10_000_000, flag::get);
          phase.set("finished");
        } catch (CancellationException e) {
          endedAt.set(System.nanoTime());
        }
      });
      t.start();
      TimeUnit.MILLISECONDS.sleep(delay);
      long setAt = System.nanoTime();
      flag.set(true);
      t.join();
      String latency = endedAt.get() == 0 ? "n/a (finished)" : String.format("%.1f", (endedAt.get() - setAt) / 1e6);
      System.out.printf("| %d | %s | %s |%n", delay, phase.get(), latency);
    }
  }

  /**
   * One run of the service's path (digits by doubling in radix 10^18, then formatting); stores compute and formatting
   * milliseconds in {@code t} and returns the digits' hash. Public for {@code make bench}
   * (dev.fibservice.bench.BenchSuite). {@code coldCache} drops the conversion's cached powers first.
   */
  public static String runEngine(int n, double[] t, boolean coldCache) throws Exception {
    if (coldCache) {
      Radix.clearCaches();
    }
    long t0 = System.nanoTime();
    long[] limbs = BigFibonacci.decimalLimbs(n, NEVER);
    long t1 = System.nanoTime();
    String s = Parallel.invoke(() -> Radix.format(limbs, NEVER));
    long t2 = System.nanoTime();
    t[0] = (t1 - t0) / 1e6;
    t[1] = (t2 - t1) / 1e6;
    return sha(s);
  }

  /** One binary fib + decimal conversion run, timed like {@link #runEngine}. */
  static String runBinary(int n, double[] t, boolean coldCache) throws Exception {
    if (coldCache) {
      Radix.clearCaches();
    }
    long t0 = System.nanoTime();
    BigInteger f = BigFibonacci.fib(n, NEVER);
    long t1 = System.nanoTime();
    String s = BigFibonacci.decimal(f, NEVER);
    long t2 = System.nanoTime();
    t[0] = (t1 - t0) / 1e6;
    t[1] = (t2 - t1) / 1e6;
    return sha(s);
  }

  private static Row baseline(int n, int reps) throws Exception {
    String digest = null;
    double[] c = new double[reps];
    double[] d = new double[reps];
    for (int i = -1; i < reps; i++) { // one warm-up round
      long t0 = System.nanoTime();
      BigInteger f = BigFibonacciTest.reference(n);
      long t1 = System.nanoTime();
      String s = f.toString();
      long t2 = System.nanoTime();
      if (i >= 0) {
        c[i] = (t1 - t0) / 1e6;
        d[i] = (t2 - t1) / 1e6;
      } else {
        digest = sha(s);
      }
    }
    return new Row("BigInteger (JDK 17)", n, median(c), median(d), digest);
  }

  /**
   * A python3 process with gmpy2 that times gmpy2.fib(n) and .digits() with perf_counter, one n per line. Public for
   * {@code make bench}.
   */
  public static final class Gmp implements AutoCloseable {
    private static final String SCRIPT = String.join("\n",
        "import gmpy2, hashlib, sys, time",
        "print(gmpy2.mp_version(), flush=True)",
        "for line in sys.stdin:",
        "  n = int(line)",
        "  c0 = time.process_time(); t0 = time.perf_counter(); x = gmpy2.fib(n); t1 = time.perf_counter()",
        "  s = x.digits(); t2 = time.perf_counter(); c1 = time.process_time()",
        "  print((t1 - t0) * 1e3, (t2 - t1) * 1e3, hashlib.sha256(s.encode()).hexdigest(), (c1 - c0) * 1e3, flush=True)",
        "");

    private final Process process;
    private final BufferedReader out;
    private final Writer in;
    public final String version;

    private Gmp(Process process, BufferedReader out, Writer in, String version) {
      this.process = process;
      this.out = out;
      this.in = in;
      this.version = version;
    }

    /** The running python3 with gmpy2, or null when no python3 on this machine has it. */
    public static Gmp start() {
      for (String python : new String[] {"python3", "/usr/bin/python3"}) {
        try {
          Process p = new ProcessBuilder(python, "-c", SCRIPT).redirectError(ProcessBuilder.Redirect.DISCARD).start();
          BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
          String version = out.readLine();
          if (version != null && version.startsWith("GMP")) {
            return new Gmp(p, out, new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8),
                version.replace("GMP ", ""));
          }
          p.destroy();
        } catch (IOException e) {
          // try the next interpreter
        }
      }
      return null;
    }

    /** {compute ms, digits ms, sha-256 of the digits}. */
    /** F(n) by GMP: its compute ms, its conversion ms, the digits' SHA-256 and the CPU ms of both (process time). */
    public String[] run(int n) throws IOException {
      in.write(n + "\n");
      in.flush();
      return out.readLine().trim().split("\\s+");
    }

    @Override
    public void close() throws Exception {
      in.close();
      process.waitFor(10, TimeUnit.SECONDS);
      process.destroy();
    }
  }

  private static void print(List<Row> rows, Map<Integer, Row> gmp) {
    System.out.printf("JDK %s, %d cores, engine worker threads: %d%n%n", System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(), Parallel.workers());
    System.out.println("| n | implementation | compute ms | decimal ms | total ms | compute / GMP | decimal / GMP "
        + "| total / GMP | same digits as GMP |");
    System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---|");
    for (Row r : rows) {
      Row g = gmp.get(r.n());
      System.out.printf("| %,d | %s | %.1f | %.1f | %.1f | %s | %s | %s | %s |%n", r.n(), r.impl(), r.computeMs(),
          r.decimalMs(), r.total(), ratio(r.computeMs(), g == null ? 0 : g.computeMs()),
          ratio(r.decimalMs(), g == null ? 0 : g.decimalMs()), ratio(r.total(), g == null ? 0 : g.total()),
          g == null ? "n/a" : r.digest().equals(g.digest()) ? "yes" : "NO");
    }
  }

  private static String ratio(double x, double gmp) {
    return gmp > 0 ? String.format("%.2fx", x / gmp) : "n/a";
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static String sha(String s) throws Exception {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.ISO_8859_1));
    return HexFormat.of().formatHex(digest);
  }
}
