package org.crlm.cds;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.core.metrics.jfr.FlightRecorderApplicationStartup;
import org.springframework.scheduling.annotation.EnableScheduling;

/** CDS Hooks services advising on thermal ablation of colorectal liver metastases, on a HAPI FHIR JPA server. */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class CrlmCdsApplication {

    public static void main(String[] args) {
        SpringApplication application = new SpringApplication(CrlmCdsApplication.class);
        if (Boolean.getBoolean("crlm.startup-steps")) {
            // Each start-up step (bean creation, context phases) as a JFR event, for a recording
            // started with -XX:StartFlightRecording (BENCHMARKS.md, "Start-up").
            application.setApplicationStartup(new FlightRecorderApplicationStartup());
        }
        application.run(args);
    }
}
