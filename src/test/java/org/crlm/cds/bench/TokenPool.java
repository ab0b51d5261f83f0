package org.crlm.cds.bench;

import com.nimbusds.jose.JWSAlgorithm;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.crlm.cds.support.TestKeys;

/**
 * CDS client JWTs made before a phase starts, while the server is idle, so signing them (the
 * EHR's cost) does not compete with the server for the 2 cores during measurement. One per
 * call, each with its own jti, because the server refuses replays.
 */
public final class TokenPool {

    private final ConcurrentLinkedQueue<String> tokens = new ConcurrentLinkedQueue<>();
    private final AtomicLong madeDuringPhase = new AtomicLong();
    private final String audience;

    public TokenPool(String audience) {
        this.audience = audience;
    }

    public void fill(int count) {
        List<String> made =
                IntStream.range(0, count).parallel().mapToObj(i -> make()).toList();
        tokens.addAll(made);
    }

    public String next() {
        String token = tokens.poll();
        if (token == null) {
            madeDuringPhase.incrementAndGet();
            return make();
        }
        return token;
    }

    /** Forgets tokens signed so far during phases (after the unmeasured JIT warm-up). */
    public void resetMadeDuringPhase() {
        madeDuringPhase.set(0);
    }

    public int size() {
        return tokens.size();
    }

    /** Tokens that had to be signed during a measured phase (the pool ran dry): reported, should be 0. */
    public long madeDuringPhase() {
        return madeDuringPhase.get();
    }

    private String make() {
        // Long-lived for the benchmark run only (the server is started with a matching maximum lifetime).
        return TestKeys.get()
                .cdsJwt(
                        JWSAlgorithm.RS384,
                        TestKeys.get().rsa.getKeyID(),
                        TestKeys.claims(audience, Instant.now(), Instant.now().plusSeconds(55 * 60)),
                        null);
    }
}
