package dev.fibservice.net;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.CancelIds;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The computations one connection waits for, each under a cancel id the server made ({@link CancelIds}, sent to the
 * gateway as the {@code x-cancel-id} header), never under an id a client chose: a client can only ever cancel its own
 * work. A real close of the connection cancels what is left. Used on the connection's event loop only.
 */
public final class PendingWork {

  private final Vertx vertx;
  /** Cancel id -> the client's own name for that request (its x-request-id), or null. */
  private final Map<String, String> pending = new HashMap<>();

  public PendingWork(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * A new computation of this connection; {@code clientId} is the client's name for it (may repeat, may be null).
   *
   * @return its cancel id: for the {@code x-cancel-id} header only, never a request id (which the logs show)
   */
  public String add(String clientId) {
    String id = CancelIds.next();
    pending.put(id, clientId);
    return id;
  }

  /** The computation under this cancel id has ended. */
  public void remove(String cancelId) {
    pending.remove(cancelId);
  }

  /** Computations of this connection in flight (the server's own entries: repeated client ids count each time). */
  public int size() {
    return pending.size();
  }

  /** Cancels this connection's computations that its client named {@code clientId}: no other connection's. */
  public int cancel(String clientId) {
    List<String> ids = new ArrayList<>();
    pending.forEach((id, name) -> {
      if (Objects.equals(name, clientId)) {
        ids.add(id);
      }
    });
    ids.forEach(id -> cancel(vertx, id));
    return ids.size();
  }

  /** The connection really closed (not a half-close): nobody waits for what is left. */
  public void cancelAll() {
    pending.keySet().forEach(id -> cancel(vertx, id));
    pending.clear();
  }

  /** Cancels the computation sent with this cancel id, on whichever member runs it. */
  public static void cancel(Vertx vertx, String cancelId) {
    vertx.eventBus().publish(Addresses.FIB_CANCEL, new JsonObject().put("id", cancelId));
  }
}
