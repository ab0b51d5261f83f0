package org.crlm.cds.security;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/** Says loudly when the demo profile runs without authentication. */
@Component
public class DemoModeWarning {

    private static final Logger log = LoggerFactory.getLogger(DemoModeWarning.class);

    private final CdsClientProperties cdsClient;
    private final FhirApiProperties fhirApi;

    public DemoModeWarning(CdsClientProperties cdsClient, FhirApiProperties fhirApi) {
        this.cdsClient = cdsClient;
        this.fhirApi = fhirApi;
    }

    @EventListener(ApplicationStartedEvent.class)
    public void warn() {
        if (!cdsClient.enabled()) {
            log.warn(
                    "DEMO MODE: CDS client JWTs are NOT verified. Listening on 127.0.0.1 only. Never use with real patient data.");
        }
        if (!fhirApi.enabled()) {
            log.warn("DEMO MODE: the FHIR API and the authoring console need NO token. Listening on 127.0.0.1 only.");
        }
    }
}
