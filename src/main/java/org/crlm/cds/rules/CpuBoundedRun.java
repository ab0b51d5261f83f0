package org.crlm.cds.rules;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs work on another thread and waits for it no longer than it has used its share of
 * processor time, nor past a wall-clock deadline. Processor time, not elapsed time, is what a
 * runaway rule consumes and what a loaded machine (a build sharing two cores) does not inflate:
 * an ordinary rule is not failed because the machine is busy. The Java platform cannot stop a
 * running computation: work given up on ends on its own thread, and its caller must not share
 * state with it afterwards.
 */
final class CpuBoundedRun {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /** The work was given up on: {@link #reason()} says which bound it crossed. */
    static final class Exceeded extends Exception {
        Exceeded(String reason) {
            super(reason, null, false, false);
        }

        String reason() {
            return getMessage();
        }
    }

    private CpuBoundedRun() {}

    static <T> T run(ExecutorService threads, Callable<T> work, Duration cpuLimit, long wallDeadlineNanos)
            throws Exceeded, ExecutionException, InterruptedException {
        AtomicReference<Thread> runner = new AtomicReference<>();
        AtomicLong cpuAtStart = new AtomicLong();
        Future<T> running = threads.submit(() -> {
            cpuAtStart.set(cpuTime(Thread.currentThread()));
            runner.set(Thread.currentThread());
            return work.call();
        });
        long cpuLimitNanos = cpuLimit.toNanos();
        while (true) {
            long wallLeft = wallDeadlineNanos - System.nanoTime();
            if (wallLeft <= 0) {
                running.cancel(true);
                throw new Exceeded("the deadline passed");
            }
            try {
                return running.get(Math.min(POLL_NANOS, wallLeft), TimeUnit.NANOSECONDS);
            } catch (TimeoutException stillRunning) {
                Thread thread = runner.get();
                if (thread != null && cpuTime(thread) - cpuAtStart.get() > cpuLimitNanos) {
                    running.cancel(true);
                    throw new Exceeded("it used more than " + readable(cpuLimit) + " of processor time");
                }
            }
        }
    }

    /** The thread's processor time so far; elapsed time where the platform does not measure it. */
    private static long cpuTime(Thread thread) {
        long cpu = THREADS.isThreadCpuTimeSupported() ? THREADS.getThreadCpuTime(thread.getId()) : -1;
        return cpu >= 0 ? cpu : System.nanoTime();
    }

    static String readable(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
