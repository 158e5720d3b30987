package io.creditledger.bench;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A closed-loop load generator: {@code concurrency} lanes, each sending its next request as soon as the previous
 * answer is read, so exactly that many requests are in flight (one keep-alive connection per lane); or, with
 * {@link #runAtRate}, an open-loop one that sends on a fixed schedule. Runs on its
 * own Vert.x instance with one event loop, so it takes at most one core from the machine under test.
 *
 * <p>Counts: 2xx answers are successes; 402 (a refused consumption) is counted apart, as it is a correct answer
 * of the ledger to an overdraft; every other status and every transport failure is an error, with the first few
 * answers kept as samples.
 */
final class LoadGenerator implements AutoCloseable {
  static final long REQUEST_TIMEOUT_MS = 60_000;

  /**
   * One request to send; {@code body} is null for a GET. {@code then}, when not null, is sent by the same lane once
   * this one succeeded (a hold, then its capture); each is a request of its own in the counts and latencies.
   */
  record Request(HttpMethod method, String path, String body, String token, Request then) {
    Request(HttpMethod method, String path, String body, String token) {
      this(method, path, body, token, null);
    }
  }

  /** Makes the {@code seq}-th request of a run (seq starts at 0 and is unique within the run). */
  interface Source {
    Request next(long seq);
  }

  static final class Result {
    final Latencies latencies = new Latencies();
    /** per request: how late the generator got round to sending it (open loop: after its scheduled time) */
    final Latencies sendLags = new Latencies();
    /** per request: from sending it to a pooled connection taking it (waits while every connection is busy) */
    final Latencies connectionWaits = new Latencies();
    final AtomicLong ok = new AtomicLong();
    final AtomicLong refused402 = new AtomicLong();
    final Map<String, Long> errors = new TreeMap<>();
    final List<String> samples = new ArrayList<>();
    volatile double seconds;

    long errorCount() {
      synchronized (errors) {
        return errors.values().stream().mapToLong(Long::longValue).sum();
      }
    }

    long requests() {
      return ok.get() + refused402.get() + errorCount();
    }

    void error(String kind, String sample) {
      synchronized (errors) {
        errors.merge(kind, 1L, Long::sum);
        if (samples.size() < 5 && sample != null) {
          samples.add(kind + ": " + (sample.length() > 300 ? sample.substring(0, 300) + "..." : sample));
        }
      }
    }

    /** Adds the counts of {@code other} (a later part of the same unmeasured run) to these. */
    void absorb(Result other) {
      ok.addAndGet(other.ok.get());
      refused402.addAndGet(other.refused402.get());
      synchronized (errors) {
        other.errors.forEach((kind, n) -> errors.merge(kind, n, Long::sum));
        other.samples.stream().limit(Math.max(0, 5 - samples.size())).forEach(samples::add);
      }
    }

    String errorSummary() {
      synchronized (errors) {
        return errors.isEmpty() ? "" : errors + " e.g. " + samples;
      }
    }
  }

  private final Vertx vertx;
  private final HttpClientAgent client;
  private final Context context;
  private final int connections;
  private final String host;
  private final int port;

  LoadGenerator(String host, int port, int maxConcurrency) {
    this.host = host;
    this.port = port;
    this.connections = Math.max(1, maxConcurrency);
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    this.client = vertx.createHttpClient(
        new HttpClientOptions().setKeepAlive(true).setPipelining(false).setTcpNoDelay(true)
            .setMaxInitialLineLength(8192),
        new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1));
    this.context = vertx.getOrCreateContext();
  }

  /** How many connections requests share: the most that can be in flight at once. */
  int connections() {
    return connections;
  }

  /**
   * Runs until {@code seconds} have passed or {@code maxRequests} were sent (whichever first; pass
   * {@code Long.MAX_VALUE} or {@code Double.MAX_VALUE} to leave one out), then waits for the requests in flight.
   */
  Result run(Source source, int concurrency, double seconds, long maxRequests) {
    Result result = new Result();
    long start = System.nanoTime();
    long deadline = seconds >= 1e9 ? Long.MAX_VALUE : start + (long) (seconds * 1e9);
    AtomicLong issued = new AtomicLong();
    AtomicInteger lanes = new AtomicInteger(concurrency);
    CompletableFuture<Void> done = new CompletableFuture<>();
    Runnable laneDone = () -> {
      if (lanes.decrementAndGet() == 0) {
        result.seconds = (System.nanoTime() - start) / 1e9;
        done.complete(null);
      }
    };
    for (int i = 0; i < concurrency; i++) {
      context.runOnContext(v -> lane(source, result, deadline, issued, maxRequests, laneDone));
    }
    try {
      long waitMs = seconds >= 1e9 ? TimeUnit.HOURS.toMillis(6) : (long) (seconds * 1000) + REQUEST_TIMEOUT_MS + 10_000;
      done.get(waitMs, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("load generator did not finish: " + e, e);
    }
    return result;
  }

  private void lane(Source source, Result result, long deadline, AtomicLong issued, long maxRequests,
                    Runnable laneDone) {
    if (System.nanoTime() >= deadline) {
      laneDone.run();
      return;
    }
    long seq = issued.getAndIncrement();
    if (seq >= maxRequests) {
      laneDone.run();
      return;
    }
    send(source.next(seq), System.nanoTime(), result, failed -> {
      if (failed) {
        // a failure may complete at once: go round through the event loop rather than deeper into the stack
        context.runOnContext(v -> lane(source, result, deadline, issued, maxRequests, laneDone));
      } else {
        lane(source, result, deadline, issued, maxRequests, laneDone);
      }
    });
  }

  /**
   * An open-loop run: requests are sent on a fixed schedule, {@code perSecond} of them for {@code seconds},
   * whatever is still in flight, and each latency is measured from the time the schedule meant it to be sent (so a
   * stall counts against every request it delays, not only the ones in flight: no coordinated omission). Requests
   * beyond the connection pool wait for a connection, and that wait counts too.
   */
  Result runAtRate(Source source, double perSecond, double seconds) {
    Result result = new Result();
    long total = Math.max(1, (long) (perSecond * seconds));
    double intervalNanos = 1e9 / perSecond;
    AtomicLong finished = new AtomicLong();
    CompletableFuture<Void> done = new CompletableFuture<>();
    long start = System.nanoTime();
    context.runOnContext(v -> {
      long[] issued = {0};
      vertx.setPeriodic(1, timer -> {
        long now = System.nanoTime();
        while (issued[0] < total) {
          long intended = start + (long) (issued[0] * intervalNanos);
          if (intended > now) {
            break;
          }
          send(source.next(issued[0]++), intended, result, failed -> {
            if (finished.incrementAndGet() == total) {
              result.seconds = (System.nanoTime() - start) / 1e9;
              done.complete(null);
            }
          });
        }
        if (issued[0] >= total) {
          vertx.cancelTimer(timer);
        }
      });
    });
    try {
      done.get((long) (seconds * 1000) + REQUEST_TIMEOUT_MS + 10_000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("load generator did not finish: " + e, e);
    }
    return result;
  }

  /** Sends {@code r}, records its answer (latency from {@code sentNanos}), then tells {@code then} if it failed. */
  private void send(Request r, long sentNanos, Result result, Consumer<Boolean> then) {
    RequestOptions options = new RequestOptions().setMethod(r.method()).setHost(host).setPort(port).setURI(r.path())
        .setIdleTimeout(REQUEST_TIMEOUT_MS)
        .putHeader("Authorization", "Bearer " + r.token());
    if (r.body() != null) {
      options.putHeader("Content-Type", "application/json");
    }
    long sending = System.nanoTime();
    result.sendLags.record((sending - sentNanos) / 1000);
    client.request(options)
        .compose(req -> {
          result.connectionWaits.record((System.nanoTime() - sending) / 1000);
          return r.body() == null ? req.send() : req.send(Buffer.buffer(r.body()));
        })
        .compose(resp -> resp.body().map(body -> {
          int status = resp.statusCode();
          long micros = (System.nanoTime() - sentNanos) / 1000;
          if (status >= 200 && status < 300) {
            result.ok.incrementAndGet();
            result.latencies.record(micros);
          } else if (status == 402) {
            result.refused402.incrementAndGet();
            result.latencies.record(micros);
          } else {
            result.error("HTTP " + status, r.method() + " " + r.path() + " -> " + body.toString());
          }
          return status / 100 == 2;
        }))
        .onComplete(ar -> {
          if (ar.failed()) {
            result.error(ar.cause().getClass().getSimpleName(), r.method() + " " + r.path() + " -> " + ar.cause());
          }
          if (ar.succeeded() && ar.result() && r.then() != null) {
            send(r.then(), System.nanoTime(), result, then);
          } else {
            then.accept(ar.failed());
          }
        });
  }

  @Override
  public void close() {
    try {
      client.close().eventually(vertx::close).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // closing a load generator that failed: nothing else to do
    }
  }
}
