package dev.fibservice.net;

import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Raw-socket clients for the tests: what a client sends byte for byte, and everything it gets back. */
public final class Raw {

  private Raw() {
  }

  /** A connection to 127.0.0.1:port; reads time out after 30 s (a hang guard). */
  public static Socket connect(int port) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port));
    socket.setSoTimeout(30_000);
    return socket;
  }

  public static void send(Socket socket, String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
  }

  /** Everything the server sends until it closes the connection. */
  public static byte[] readToEnd(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] chunk = new byte[16384];
    for (int n; (n = in.read(chunk)) >= 0; ) {
      all.write(chunk, 0, n);
    }
    return all.toByteArray();
  }

  /** A reset instead of a close: what a client that crashed or gave up hard sends. */
  public static void reset(Socket socket) throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  /** One HTTP/1.1 response. */
  public record HttpReply(int status, Map<String, String> headers, String body) {
  }

  /** The responses in {@code bytes}, in order (each with a Content-Length, as every response of this service). */
  public static List<HttpReply> httpReplies(byte[] bytes) {
    String all = new String(bytes, StandardCharsets.ISO_8859_1);
    List<HttpReply> replies = new ArrayList<>();
    int at = 0;
    while (at < all.length()) {
      int headEnd = all.indexOf("\r\n\r\n", at);
      if (headEnd < 0) {
        throw new AssertionError("an incomplete response at byte " + at + ": " + all.substring(at));
      }
      String[] lines = all.substring(at, headEnd).split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      Map<String, String> headers = new HashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
      }
      int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
      int bodyStart = headEnd + 4;
      replies.add(new HttpReply(status, headers, new String(bytes, bodyStart, length, StandardCharsets.UTF_8)));
      at = bodyStart + length;
    }
    return replies;
  }

  /** A bridge frame: 4-byte big-endian length, then the JSON. */
  public static byte[] frame(JsonObject json) {
    byte[] payload = json.encode().getBytes(StandardCharsets.UTF_8);
    byte[] frame = new byte[payload.length + 4];
    frame[0] = (byte) (payload.length >>> 24);
    frame[1] = (byte) (payload.length >>> 16);
    frame[2] = (byte) (payload.length >>> 8);
    frame[3] = (byte) payload.length;
    System.arraycopy(payload, 0, frame, 4, payload.length);
    return frame;
  }

  public static void sendFrame(Socket socket, JsonObject json) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(frame(json));
    out.flush();
  }

  /** The next frame, or null when the server closed the connection between frames. */
  public static JsonObject readFrame(DataInputStream in) throws IOException {
    int length;
    try {
      length = in.readInt();
    } catch (EOFException e) {
      return null;
    }
    byte[] payload = new byte[length];
    in.readFully(payload);
    return new JsonObject(new String(payload, StandardCharsets.UTF_8));
  }

  /** A {@code fib.compute} send frame. */
  public static JsonObject compute(String replyAddress, String requestId, JsonObject body) {
    JsonObject frame = new JsonObject().put("type", "send").put("address", "fib.compute")
      .put("replyAddress", replyAddress).put("body", body);
    if (requestId != null) {
      frame.put("headers", new JsonObject().put("x-request-id", requestId));
    }
    return frame;
  }
}
