package org.crlm.cds;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/** CDS Hooks services advising on thermal ablation of colorectal liver metastases, on a HAPI FHIR JPA server. */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class CrlmCdsApplication {

    public static void main(String[] args) {
        SpringApplication.run(CrlmCdsApplication.class, args);
    }
}
