// java: enough work for the JIT to compile hot methods, threads, streams, string formatting.
import java.util.stream.IntStream;
import java.util.concurrent.atomic.AtomicLong;

public class Corpus {
  static long collatz(long n) {
    long steps = 0;
    while (n != 1) { n = (n % 2 == 0) ? n / 2 : 3 * n + 1; steps++; }
    return steps;
  }

  public static void main(String[] args) throws Exception {
    long best = 0, arg = 0;
    for (long i = 1; i < 1_000_000; i++) { long s = collatz(i); if (s > best) { best = s; arg = i; } }
    System.out.println("collatz " + arg + " " + best);
    AtomicLong total = new AtomicLong();
    Thread[] ts = new Thread[4];
    for (int t = 0; t < ts.length; t++) {
      final int id = t;
      ts[t] = new Thread(() ->
          total.addAndGet(IntStream.range(0, 1_000_000).filter(x -> x % 4 == id).asLongStream().sum()));
      ts[t].start();
    }
    for (Thread t : ts) t.join();
    System.out.println("threads " + total.get());
    System.out.println(String.format("%08.3f %s", Math.PI, Integer.toHexString(0xC0FFEE)));
  }
}
