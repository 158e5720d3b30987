package io.creditledger.service;

import io.creditledger.config.BatchSettings;
import io.creditledger.config.LedgerConfig;
import io.creditledger.db.DbErrors;
import io.creditledger.db.Transactions;
import io.creditledger.domain.Answer;
import io.creditledger.domain.Capture;
import io.creditledger.domain.Command;
import io.creditledger.domain.Consumption;
import io.creditledger.domain.CycleGrants;
import io.creditledger.error.ErrorCode;
import io.creditledger.error.LedgerException;
import io.creditledger.metrics.LedgerMeters;
import io.creditledger.time.Now;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The ledger's write path as an actor: balance-changing operations queue here, on one event loop, and go to the
 * database in batches of up to {@link BatchSettings#maxSize()} operations, one transaction each
 * ({@link WriteBatch}), with up to {@link BatchSettings#concurrency()} transactions in flight. Batching is adaptive:
 * an operation that finds a free slot starts a batch at once, and the operations that arrive while every slot is busy
 * form the next batch, so an idle ledger never waits and a busy one commits many operations at a time.
 *
 * <p>A batch whose transaction fails for good (its retries spent, or an error no retry cures) is split in halves and
 * each half is tried alone, down to single operations, so one poisoned operation fails alone. When the database is
 * unavailable or the pool saturated, the whole batch fails at once with that answer instead.
 */
public final class WriteQueue {
  private record Pending(Command command, Promise<Answer<?>> promise, long deadline) {
  }

  private final LedgerConfig config;
  private final BatchSettings settings;
  private final Transactions transactions;
  private final WriteBatch batch;
  private final LedgerMeters meters;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private final long maxWaitNanos;
  /** written on the queue's event loop; volatile for the gauges, read when /metrics is scraped */
  private volatile int inFlight;
  private volatile int waiting;
  private long sweeper = -1;

  public WriteQueue(LedgerConfig config, Transactions transactions, WriteBatch batch, LedgerMeters meters) {
    this.meters = meters;
    this.config = config;
    this.settings = config.writes();
    this.transactions = transactions;
    this.batch = batch;
    this.maxWaitNanos = config.databasePool().acquireTimeout().toNanos();
    meters.writePath(() -> waiting, () -> inFlight);
  }

  /**
   * Starts answering {@code 503 ledger_busy} to operations that waited for a batch longer than
   * {@code DATABASE_ACQUIRE_TIMEOUT} (a batch held up by a lock, a saturated database), so no caller waits out the
   * event-bus timeout. Call from the owning verticle's start.
   */
  public void start(Vertx vertx) {
    long every = Math.max(10, Math.min(100, TimeUnit.NANOSECONDS.toMillis(maxWaitNanos) / 4));
    sweeper = vertx.setPeriodic(every, t -> expire());
  }

  public void stop(Vertx vertx) {
    if (sweeper >= 0) {
      vertx.cancelTimer(sweeper);
      sweeper = -1;
    }
  }

  private void expire() {
    long now = System.nanoTime();
    while (!queue.isEmpty() && queue.peek().deadline() - now < 0) {
      queue.poll().promise().fail(new LedgerException(ErrorCode.LEDGER_BUSY,
          "The ledger could not start the operation in time; retry shortly"));
    }
    waiting = queue.size();
  }

  /** Queues {@code command}; answers once the batch that carries it has committed. Call on the queue's event loop. */
  @SuppressWarnings("unchecked")
  public <R> Future<Answer<R>> submit(Command command) {
    if (queue.size() >= settings.maxQueued()) {
      return Future.failedFuture(new LedgerException(ErrorCode.LEDGER_BUSY, "The ledger's write queue is full; retry shortly"));
    }
    Promise<Answer<?>> promise = Promise.promise();
    queue.add(new Pending(command, promise, System.nanoTime() + maxWaitNanos));
    pump();
    return promise.future().map(answer -> (Answer<R>) answer);
  }

  private void pump() {
    while (inFlight < settings.concurrency() && !queue.isEmpty()
        && (inFlight == 0 || queue.size() >= settings.overlapMin())) {
      List<Pending> next = new ArrayList<>(Math.min(queue.size(), settings.maxSize()));
      while (next.size() < settings.maxSize() && !queue.isEmpty()) {
        next.add(queue.poll());
      }
      inFlight++;
      write(next).onComplete(done -> {
        inFlight--;
        // the next batch's statements go out before this one's answers: the database works while they are delivered
        pump();
        done.result().run();
      });
    }
    waiting = queue.size();
  }

  /**
   * Writes {@code ops} in one transaction, or, when that fails for good, each half alone; answers what delivers
   * their answers (never failed).
   */
  private Future<Runnable> write(List<Pending> ops) {
    List<Command> commands = ops.stream().map(Pending::command).toList();
    return transact(commands).transform(ar -> {
      if (ar.succeeded()) {
        List<WriteBatch.Outcome> outcomes = ar.result();
        return Future.succeededFuture(() -> {
          for (int i = 0; i < ops.size(); i++) {
            WriteBatch.Outcome outcome = outcomes.get(i);
            measure(ops.get(i).command(), outcome.answer(), outcome.failure());
            if (outcome.failure() == null) {
              ops.get(i).promise().complete(outcome.answer());
            } else {
              ops.get(i).promise().fail(outcome.failure());
            }
          }
        });
      }
      Throwable cause = ar.cause() instanceof Transactions.GaveUp gaveUp ? gaveUp.getCause() : ar.cause();
      if (ops.size() == 1 || DbErrors.isUnavailable(cause) || DbErrors.isPoolBusy(cause)) {
        return Future.succeededFuture(() -> ops.forEach(op -> {
          measure(op.command(), null, ar.cause());
          op.promise().fail(ar.cause());
        }));
      }
      // each half is answered as soon as it is decided
      int half = ops.size() / 2;
      return write(ops.subList(0, half)).compose(first -> {
        first.run();
        return write(ops.subList(half, ops.size()));
      });
    });
  }

  /** ledger_operations_total{op,outcome}, and the credits a consumption or capture (not a replay) took. */
  private void measure(Command command, Answer<?> answer, Throwable failure) {
    String outcome = failure == null ? "ok"
        : failure instanceof LedgerException e && e.status() < 500 ? "refused" : "failed";
    meters.operation(opName(command), outcome);
    if (answer != null && !answer.replayed()) {
      if (answer.result() instanceof Consumption c) {
        meters.consumed(c.consumed());
      } else if (answer.result() instanceof Capture c) {
        meters.consumed(c.consumption().consumed());
      }
    }
  }

  /** The {@code op} label of each write command. */
  private static final Map<Class<?>, String> OP_NAMES = Map.of(
      Command.Consume.class, "consume",
      Command.GrantCredits.class, "grant",
      Command.Revoke.class, "revoke",
      Command.Refer.class, "referral",
      Command.PlaceHold.class, "hold",
      Command.CaptureHold.class, "capture",
      Command.ReleaseHold.class, "release",
      Command.ApplyReset.class, "reset");

  private static String opName(Command c) {
    return OP_NAMES.getOrDefault(c.getClass(), c.getClass().getSimpleName());
  }

  /** One transaction for the batch; again, looking its operations up, when it held replays. */
  private Future<List<WriteBatch.Outcome>> transact(List<Command> commands) {
    return transact(commands, false).recover(failure -> failure instanceof WriteBatch.ReplaysFound
        ? transact(commands, true) : Future.failedFuture(failure));
  }

  private Future<List<WriteBatch.Outcome>> transact(List<Command> commands, boolean lookUp) {
    if (commands.size() == 1) {
      Command only = commands.get(0);
      return transactions.run(Transactions.Failure.of(operationIdOf(only), userIdOf(only), (Record) only),
          (conn, commit) -> batch.run(conn, commit, commands, Now.of(config.clock()), lookUp));
    }
    return transactions.run((conn, commit) -> batch.run(conn, commit, commands, Now.of(config.clock()), lookUp));
  }

  private static String operationIdOf(Command c) {
    if (c instanceof Command.Revoke x) {
      return "revoke/" + x.operationId();
    }
    if (c instanceof Command.ApplyReset x) {
      return CycleGrants.resetFailure(x.userId());
    }
    if (c instanceof Command.Refer x) {
      return x.operationId();
    }
    return c instanceof Command.Recorded x ? x.operationId() : null;
  }

  private static String userIdOf(Command c) {
    if (c instanceof Command.Refer x) {
      return x.referrerId();
    }
    return c instanceof Command.ForUser x ? x.userId() : null;
  }
}
