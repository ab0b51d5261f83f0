package org.crlm.cds.feedback;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/** Counts feedback per rule, library version and outcome for Prometheus. */
@Component
public class FeedbackMetrics {

    private final MeterRegistry meters;

    public FeedbackMetrics(MeterRegistry meters) {
        this.meters = meters;
    }

    @EventListener
    public void on(FeedbackRecordedEvent event) {
        meters.counter(
                        "cds.feedback",
                        "service",
                        event.serviceId(),
                        "rule",
                        event.ruleId(),
                        "version",
                        String.valueOf(event.libraryVersion()),
                        "outcome",
                        event.outcome())
                .increment();
    }
}
