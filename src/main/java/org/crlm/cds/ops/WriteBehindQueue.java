package org.crlm.cds.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rows written after the response, in batches, so nothing slow sits on the request path.
 * Flushed every interval, on demand (before a read that needs the rows) and at shutdown.
 * A failed batch is retried on the next flush.
 */
public final class WriteBehindQueue<T> implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WriteBehindQueue.class);

    private final String name;
    private final Consumer<List<T>> writer;
    private final int maxBatch;
    private final ConcurrentLinkedQueue<T> pending = new ConcurrentLinkedQueue<>();
    private final ScheduledExecutorService timer;

    public WriteBehindQueue(String name, long intervalMillis, int maxBatch, Consumer<List<T>> writer) {
        this.name = name;
        this.writer = writer;
        this.maxBatch = maxBatch;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "write-behind-" + name);
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::flushQuietly, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    public void add(T row) {
        pending.add(row);
    }

    public int pending() {
        return pending.size();
    }

    /** Writes everything queued so far (in batches of at most maxBatch). */
    public synchronized void flush() {
        while (!pending.isEmpty()) {
            List<T> batch = new ArrayList<>(Math.min(maxBatch, pending.size()));
            T row;
            while (batch.size() < maxBatch && (row = pending.poll()) != null) {
                batch.add(row);
            }
            try {
                writer.accept(batch);
            } catch (RuntimeException e) {
                pending.addAll(batch);
                throw e;
            }
        }
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (RuntimeException e) {
            log.warn("Write-behind {}: batch not written, will retry ({} pending): {}", name, pending.size(), e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdown();
        flushQuietly();
    }
}
