package io.creditledger.support;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/** Requests released at once from many threads, for races. */
public final class Together {
  private Together() {
  }

  /** Runs {@code n} calls on {@code threads}, all released together; returns their answers in index order. */
  public static <T> List<T> run(ExecutorService threads, int n, IntFunction<T> call) throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    List<Future<T>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int index = i;
      futures.add(threads.submit(() -> {
        start.await();
        return call.apply(index);
      }));
    }
    start.countDown();
    List<T> out = new ArrayList<>();
    for (Future<T> f : futures) {
      out.add(f.get());
    }
    return out;
  }
}
