package dev.fibservice.ops;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OTLP/HTTP trace receiver on loopback for tests, in place of a collector (none runs here): it takes the
 * exporter's real POSTs of {@code ExportTraceServiceRequest} protobufs and decodes them by the protobuf wire format
 * (field numbers of opentelemetry-proto's trace.proto), keeping every span with its resource's attributes. It can
 * also refuse every export (HTTP 500), as a broken collector would.
 */
final class OtlpReceiver implements AutoCloseable {

  /** A span as the exporter sent it: ids in lowercase hex, the parent's empty for a root. */
  record ReceivedSpan(String traceId, String spanId, String parentSpanId, String name, int kind,
                      Map<String, Object> attributes, List<String> events, Map<String, Object> resource) {

    Object attribute(String key) {
      return attributes.get(key);
    }
  }

  static final int SERVER = 2;
  static final int CLIENT = 3;

  private static final HexFormat HEX = HexFormat.of();

  private final HttpServer server;
  private final List<ReceivedSpan> spans = new CopyOnWriteArrayList<>();
  private final AtomicInteger posts = new AtomicInteger();
  private volatile boolean refuse;

  OtlpReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/traces", exchange -> {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      posts.incrementAndGet();
      int status = 200;
      if (refuse) {
        status = 500;
      } else if (!"application/x-protobuf".equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
        status = 415;
      } else {
        spans.addAll(decodeRequest(body));
      }
      exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
      // an empty ExportTraceServiceResponse: everything accepted
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
  }

  /** The URL to give tracing.endpoint. */
  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/traces";
  }

  /** From now on, answer every export 500. */
  void refuse() {
    refuse = true;
  }

  int posts() {
    return posts.get();
  }

  List<ReceivedSpan> spans() {
    return List.copyOf(spans);
  }

  List<ReceivedSpan> trace(String traceId) {
    return spans.stream().filter(s -> s.traceId().equals(traceId)).toList();
  }

  @Override
  public void close() {
    server.stop(0);
  }

  // --- the protobuf wire format: (field number << 3 | wire type) tags, varints, length-delimited fields ---

  /** One protobuf message's fields in order: number, wire type, and the value (Long, or byte[] when delimited). */
  private record Field(int number, int type, long varint, byte[] bytes) {
  }

  private static List<Field> fields(byte[] data) {
    List<Field> fields = new ArrayList<>();
    int[] at = {0};
    while (at[0] < data.length) {
      long tag = varint(data, at);
      int number = (int) (tag >>> 3);
      int type = (int) (tag & 7);
      switch (type) {
        case 0 -> fields.add(new Field(number, type, varint(data, at), null));
        case 1 -> fields.add(new Field(number, type, fixed(data, at, 8), null));
        case 5 -> fields.add(new Field(number, type, fixed(data, at, 4), null));
        case 2 -> {
          int length = (int) varint(data, at);
          byte[] bytes = new byte[length];
          System.arraycopy(data, at[0], bytes, 0, length);
          at[0] += length;
          fields.add(new Field(number, type, 0, bytes));
        }
        default -> throw new IllegalArgumentException("wire type " + type + " at byte " + at[0]);
      }
    }
    return fields;
  }

  private static long varint(byte[] data, int[] at) {
    long value = 0;
    for (int shift = 0; ; shift += 7) {
      byte b = data[at[0]++];
      value |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        return value;
      }
    }
  }

  private static long fixed(byte[] data, int[] at, int bytes) {
    long value = 0;
    for (int i = 0; i < bytes; i++) {
      value |= (long) (data[at[0]++] & 0xff) << (8 * i);
    }
    return value;
  }

  /** ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 }. */
  static List<ReceivedSpan> decodeRequest(byte[] request) {
    List<ReceivedSpan> out = new ArrayList<>();
    for (Field resourceSpans : fields(request)) {
      if (resourceSpans.number() != 1) {
        continue;
      }
      // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2 }
      Map<String, Object> resource = new LinkedHashMap<>();
      List<byte[]> scopes = new ArrayList<>();
      for (Field f : fields(resourceSpans.bytes())) {
        if (f.number() == 1) {
          // Resource { repeated KeyValue attributes = 1 }
          fields(f.bytes()).stream().filter(a -> a.number() == 1).forEach(a -> keyValue(a.bytes(), resource));
        } else if (f.number() == 2) {
          scopes.add(f.bytes());
        }
      }
      for (byte[] scope : scopes) {
        // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2 }
        for (Field f : fields(scope)) {
          if (f.number() == 2) {
            out.add(span(f.bytes(), resource));
          }
        }
      }
    }
    return out;
  }

  /**
   * Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; SpanKind kind = 6;
   * repeated KeyValue attributes = 9; repeated Event events = 11 }.
   */
  private static ReceivedSpan span(byte[] data, Map<String, Object> resource) {
    String traceId = "";
    String spanId = "";
    String parent = "";
    String name = "";
    int kind = 0;
    Map<String, Object> attributes = new LinkedHashMap<>();
    List<String> events = new ArrayList<>();
    for (Field f : fields(data)) {
      switch (f.number()) {
        case 1 -> traceId = HEX.formatHex(f.bytes());
        case 2 -> spanId = HEX.formatHex(f.bytes());
        case 4 -> parent = HEX.formatHex(f.bytes());
        case 5 -> name = new String(f.bytes(), StandardCharsets.UTF_8);
        case 6 -> kind = (int) f.varint();
        case 9 -> keyValue(f.bytes(), attributes);
        case 11 -> fields(f.bytes()).stream().filter(e -> e.number() == 2)
          .forEach(e -> events.add(new String(e.bytes(), StandardCharsets.UTF_8)));
        default -> {
        }
      }
    }
    return new ReceivedSpan(traceId, spanId, parent, name, kind, attributes, events, resource);
  }

  /** KeyValue { string key = 1; AnyValue value = 2 }, AnyValue { string 1; bool 2; int64 3; double 4 }. */
  private static void keyValue(byte[] data, Map<String, Object> into) {
    String key = null;
    Object value = null;
    for (Field f : fields(data)) {
      if (f.number() == 1) {
        key = new String(f.bytes(), StandardCharsets.UTF_8);
      } else if (f.number() == 2) {
        for (Field v : fields(f.bytes())) {
          value = switch (v.number()) {
            case 1 -> new String(v.bytes(), StandardCharsets.UTF_8);
            case 2 -> v.varint() != 0;
            case 3 -> v.varint();
            case 4 -> Double.longBitsToDouble(v.varint());
            default -> "(kind " + v.number() + ")";
          };
        }
      }
    }
    into.put(key, value);
  }
}
