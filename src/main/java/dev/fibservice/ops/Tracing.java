package dev.fibservice.ops;

import dev.fibservice.config.Settings;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.zipkin.ZipkinSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InternalTelemetryVersion;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.vertx.core.spi.VertxTracerFactory;
import io.vertx.tracing.opentelemetry.OpenTelemetryTracingFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import zipkin2.reporter.urlconnection.URLConnectionSender;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A node's tracing, from the tracing.* keys: OpenTelemetry's SDK behind Vert.x's tracing SPI (vertx-opentelemetry),
 * which traces HTTP requests, event-bus hops and SQL statements; our own spans come through {@link Traces}. Every span
 * carries the node's name as {@code fib.node}; spans go to an OTLP collector or to Zipkin in batches. Off (the default)
 * means no tracer at all: Vert.x runs without its tracing SPI, no SDK object and no exporter thread exist.
 */
public final class Tracing {

  private static final Logger log = LoggerFactory.getLogger(Tracing.class);

  /** The attribute every span of a node carries: which member did this. */
  public static final AttributeKey<String> NODE = AttributeKey.stringKey("fib.node");
  static final String OTLP_DEFAULT = "http://127.0.0.1:4318/v1/traces";
  static final String ZIPKIN_DEFAULT = "http://127.0.0.1:9411/api/v2/spans";
  /** How long the close waits for the last spans to be sent. */
  private static final long CLOSE_WAIT_SECONDS = 5;

  private static final Tracing OFF = new Tracing(null, null, "off", null);
  /**
   * OpenTelemetry's own log (java.util.logging), kept to its severe lines: an export that fails is said here once per
   * kind of trouble, in one line, and counted; OpenTelemetry would print a stack trace for each. Held, since
   * java.util.logging keeps its loggers only weakly.
   */
  private static final java.util.logging.Logger OTEL_LOG = java.util.logging.Logger.getLogger("io.opentelemetry");

  private final SdkTracerProvider provider;
  private final OpenTelemetrySdk sdk;
  private final String description;
  private final SdkMeterProvider selfMetrics;

  private Tracing(SdkTracerProvider provider, OpenTelemetrySdk sdk, String description, SdkMeterProvider selfMetrics) {
    this.provider = provider;
    this.sdk = sdk;
    this.description = description;
    this.selfMetrics = selfMetrics;
  }

  /** No tracing. */
  public static Tracing off() {
    return OFF;
  }

  /**
   * The tracing the settings ask for, its dropped and exported spans counted in {@code metrics}
   * ({@code fib_tracing_spans_dropped_total{reason}}, {@code fib_tracing_spans_exported_total}).
   */
  public static Tracing create(Settings settings, String nodeName, String version, Metrics metrics) {
    String exporter = settings.getString(Settings.TRACING_EXPORTER);
    if ("off".equals(exporter)) {
      return OFF;
    }
    OTEL_LOG.setLevel(java.util.logging.Level.SEVERE);
    String endpoint = endpoint(settings);
    SpanExporter wire = "otlp".equals(exporter)
      ? OtlpHttpSpanExporter.builder().setEndpoint(endpoint).build()
      : ZipkinSpanExporter.builder().setSender(URLConnectionSender.create(endpoint)).build();
    Counted counted = new Counted(wire);
    QueueDrops drops = new QueueDrops();
    // the batch processor counts what its full queue refused on a meter of OpenTelemetry's own, read back here
    SdkMeterProvider selfMetrics = SdkMeterProvider.builder().registerMetricReader(drops).build();
    BatchSpanProcessor batch = BatchSpanProcessor.builder(counted)
      .setMaxQueueSize(settings.getInt(Settings.TRACING_MAX_QUEUED_SPANS))
      .setMaxExportBatchSize(Math.min(512, settings.getInt(Settings.TRACING_MAX_QUEUED_SPANS)))
      .setMeterProvider(selfMetrics)
      .setInternalTelemetryVersion(InternalTelemetryVersion.LEGACY)
      .build();
    Resource resource = Resource.getDefault().merge(Resource.create(Attributes.of(
      AttributeKey.stringKey("service.name"), "fib-service",
      AttributeKey.stringKey("service.version"), version,
      AttributeKey.stringKey("service.instance.id"), nodeName)));
    double ratio = settings.getDouble(Settings.TRACING_SAMPLE_RATIO);
    boolean honour = settings.getBoolean(Settings.TRACING_HONOUR_CALLER_SAMPLED);
    SdkTracerProvider provider = SdkTracerProvider.builder()
      .setResource(resource)
      .setSampler(new SpanSampler(ratio, honour))
      .addSpanProcessor(new NodeName(nodeName))
      .addSpanProcessor(batch)
      .build();
    OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(provider)
      .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
    MeterRegistry registry = metrics.registry();
    String dropped = "Finished spans never sent, by reason: queue_full (more were waiting than"
      + " tracing.maxQueuedSpans), export_failed (the trace backend refused them or did not answer)";
    FunctionCounter.builder("fib_tracing_spans_dropped", drops, QueueDrops::dropped)
      .description(dropped).tag("reason", "queue_full").register(registry);
    FunctionCounter.builder("fib_tracing_spans_dropped", counted.failed, LongAdder::sum)
      .description(dropped).tag("reason", "export_failed").register(registry);
    FunctionCounter.builder("fib_tracing_spans_exported", counted.exported, LongAdder::sum)
      .description("Spans the trace backend accepted").register(registry);
    String description = exporter + " to " + endpoint + ", sample ratio " + ratio + " for new traces, callers' sampled"
      + " flag " + (honour ? "honoured" : "ignored (tracing.honourCallerSampled=false)");
    TraceIds.inUse();
    warmUp(sdk);
    return new Tracing(provider, sdk, description, selfMetrics);
  }

  /**
   * The first span costs OpenTelemetry's class loading and its context storage's lookup (a scan of the class path for
   * providers): paid here, at start, rather than on an event loop by the first request. The span is one the sampler
   * drops (a scrape's), so nothing of it is sent.
   */
  private static void warmUp(OpenTelemetrySdk sdk) {
    io.opentelemetry.context.Context caller = sdk.getPropagators().getTextMapPropagator().extract(
      io.opentelemetry.context.Context.root(), Map.of("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
      MAP_GETTER);
    Span span = sdk.getTracer("fib-service").spanBuilder("warm-up").setParent(caller)
      .setAttribute("url.path", "/metrics").startSpan();
    try (Scope scope = span.makeCurrent()) {
      Span.current().getSpanContext().getTraceFlags().asHex();
    }
    span.end();
  }

  private static final TextMapGetter<Map<String, String>> MAP_GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Map<String, String> carrier) {
      return carrier.keySet();
    }

    @Override
    public String get(Map<String, String> carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  static String endpoint(Settings settings) {
    String endpoint = settings.getString(Settings.TRACING_ENDPOINT);
    if (!"auto".equals(endpoint)) {
      return endpoint;
    }
    return "otlp".equals(settings.getString(Settings.TRACING_EXPORTER)) ? OTLP_DEFAULT : ZIPKIN_DEFAULT;
  }

  public boolean enabled() {
    return provider != null;
  }

  /** What the start-up log says about tracing. */
  public String describe() {
    return description;
  }

  /**
   * For {@code Vertx.builder().withTracer(...)}: Vert.x's OpenTelemetry tracer over this SDK, wrapped so that our
   * own spans find it ({@link Traces}) and so that Vert.x's close sends the last spans. Null when off.
   */
  public VertxTracerFactory vertxTracer() {
    if (!enabled()) {
      return null;
    }
    VertxTracerFactory otel = new OpenTelemetryTracingFactory(sdk);
    return options -> new NodeTracer(otel.tracer(options), sdk.getTracer("fib-service"), sdk.getPropagators(),
      this::close);
  }

  /** Sends what is left (bounded) and stops the exporter thread; Vert.x's close calls it. */
  void close() {
    if (!enabled()) {
      return;
    }
    CompletableResultCode done = provider.shutdown().join(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
    if (!done.isSuccess()) {
      log.warn("tracing: the last spans could not be sent within {} s", CLOSE_WAIT_SECONDS);
    }
    selfMetrics.shutdown();
  }

  /** Puts the node's name on every span as it starts. */
  private record NodeName(String name) implements SpanProcessor {
    @Override
    public void onStart(io.opentelemetry.context.Context parent, ReadWriteSpan span) {
      span.setAttribute(NODE, name);
    }

    @Override
    public boolean isStartRequired() {
      return true;
    }

    @Override
    public void onEnd(ReadableSpan span) {
    }

    @Override
    public boolean isEndRequired() {
      return false;
    }
  }

  /** The exporter, counting the spans the backend took and those it refused or never answered for. */
  private static final class Counted implements SpanExporter {
    final SpanExporter delegate;
    final LongAdder exported = new LongAdder();
    final LongAdder failed = new LongAdder();
    private String lastFailure;

    Counted(SpanExporter delegate) {
      this.delegate = delegate;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      int count = spans.size();
      CompletableResultCode result = delegate.export(spans);
      result.whenComplete(() -> {
        if (result.isSuccess()) {
          exported.add(count);
          lastFailure = null;
        } else {
          failed.add(count);
          String why = result.getFailureThrowable() != null ? result.getFailureThrowable().toString() : "refused";
          if (!why.equals(lastFailure)) {
            // once per kind of trouble, not per batch
            log.warn("tracing: {} spans could not be sent ({})", count, why);
            lastFailure = why;
          }
        }
      });
      return result;
    }

    @Override
    public CompletableResultCode flush() {
      return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return delegate.shutdown();
    }
  }

  /** Reads the batch processor's own count of spans its full queue dropped ("processedSpans", dropped=true). */
  private static final class QueueDrops implements MetricReader {
    private static final AttributeKey<Boolean> DROPPED = AttributeKey.booleanKey("dropped");
    private volatile CollectionRegistration registration;

    @Override
    public void register(CollectionRegistration registration) {
      this.registration = registration;
    }

    double dropped() {
      CollectionRegistration r = registration;
      if (r == null) {
        return 0;
      }
      long sum = 0;
      for (MetricData metric : r.collectAllMetrics()) {
        if ("processedSpans".equals(metric.getName())) {
          for (LongPointData point : metric.getLongSumData().getPoints()) {
            if (Boolean.TRUE.equals(point.getAttributes().get(DROPPED))) {
              sum += point.getValue();
            }
          }
        }
      }
      return sum;
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType type) {
      return AggregationTemporality.CUMULATIVE;
    }

    @Override
    public CompletableResultCode forceFlush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
