package org.crlm.cds.knowledge;

import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Where the rules and FHIR resources come from ({@code crlm.knowledge.*}).
 *
 * @param cqlDir         the CQL libraries informaticians edit ({@code cql/})
 * @param resourcesDir   ValueSets, PlanDefinitions and the rest ({@code fhir-resources/})
 * @param loadDemoData   also load the demo patients under {@code fhir-resources/demo}; off in production
 * @param canonicalBase  base of the canonical urls of Libraries built from {@code cql/}
 * @param syncInterval   how often a node checks the database for rules published through another node
 * @param demoDataWrittenAsOf the day the demo patients' dates are written as of; on loading every date
 *                       moves forward so that this day becomes today (rules that look back from now,
 *                       such as the measurement window, read the demo patients the same on any day)
 */
@ConfigurationProperties("crlm.knowledge")
public record KnowledgeProperties(
        @DefaultValue("cql") Path cqlDir,
        @DefaultValue("fhir-resources") Path resourcesDir,
        @DefaultValue("false") boolean loadDemoData,
        @DefaultValue("http://crlm-cds.org/fhir") String canonicalBase,
        @DefaultValue("2s") Duration syncInterval,
        @DefaultValue(KnowledgeProperties.DEMO_DATA_WRITTEN_AS_OF) LocalDate demoDataWrittenAsOf) {

    /** The day the demo patients in fhir-resources/demo are written as of. */
    public static final String DEMO_DATA_WRITTEN_AS_OF = "2025-03-05";

    public static final String DEMO_FOLDER = "demo";
}
