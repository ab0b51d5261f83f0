package org.crlm.cds.ops;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import org.crlm.cds.cdshooks.HookCompletedEvent;
import org.crlm.cds.cdshooks.IssuedCard;
import org.crlm.cds.cdshooks.PatientRecord;
import org.crlm.cds.rules.CqlLibraryCompiler;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Hook metrics for Prometheus: latency histogram per service, cards per rule and indicator,
 * prefetch misses and outbound fetches per key, and CQL translations (0 after ready: they
 * happen at start-up and on publish only). JWT refusals and feedback are counted where they happen.
 */
@Component
public class HookMetrics {

    private final MeterRegistry meters;

    public HookMetrics(MeterRegistry meters, CqlLibraryCompiler compiler) {
        this.meters = meters;
        FunctionCounter.builder("cql.translations", compiler, CqlLibraryCompiler::translations)
                .description("CQL libraries translated to ELM since start")
                .register(meters);
        FunctionCounter.builder("cql.translations.restored", compiler, CqlLibraryCompiler::restorations)
                .description("CQL libraries whose stored translation of the same text was used instead of translating")
                .register(meters);
    }

    @EventListener
    public void on(HookCompletedEvent event) {
        Timer.builder("cds.hook.duration")
                .description("Time to answer a CDS Hooks service call")
                .tag("service", event.serviceId() == null ? "unknown" : event.serviceId())
                .tag("status", Integer.toString(event.httpStatus()))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(5))
                .register(meters)
                .record(Duration.ofNanos(event.durationNanos()));
        for (IssuedCard card : event.cards()) {
            meters.counter(
                            "cds.cards",
                            "service",
                            event.serviceId(),
                            "rule",
                            card.ruleId(),
                            "indicator",
                            card.indicator())
                    .increment();
        }
        for (Map.Entry<String, PatientRecord.Source> source :
                event.dataSources().entrySet()) {
            switch (source.getValue()) {
                case FHIR_SERVER -> {
                    meters.counter("cds.prefetch.misses", "key", source.getKey())
                            .increment();
                    meters.counter("cds.outbound.fetches", "key", source.getKey())
                            .increment();
                }
                case LOCAL_STORE -> {
                    meters.counter("cds.prefetch.misses", "key", source.getKey())
                            .increment();
                    meters.counter("cds.local.fetches", "key", source.getKey()).increment();
                }
                default -> {}
            }
        }
    }
}
