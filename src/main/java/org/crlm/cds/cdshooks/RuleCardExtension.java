package org.crlm.cds.cdshooks;

import ca.uhn.fhir.rest.api.server.cdshooks.CdsHooksExtension;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The card's {@code extension}: which rule, library version and PlanDefinition produced it,
 * so EHR analytics and feedback can be counted per rule version.
 */
public class RuleCardExtension extends CdsHooksExtension {

    public static final String KEY = "org.crlm-cds.rule";

    @JsonProperty(KEY)
    private Provenance provenance;

    public RuleCardExtension() {
    }

    public RuleCardExtension(Provenance provenance) {
        this.provenance = provenance;
    }

    public Provenance provenance() {
        return provenance;
    }

    /** What produced a card. */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public static class Provenance {
        @JsonProperty("ruleId")
        public String ruleId;
        @JsonProperty("library")
        public String library;
        @JsonProperty("libraryVersion")
        public String libraryVersion;
        @JsonProperty("planDefinition")
        public String planDefinition;

        public Provenance() {
        }

        public Provenance(String ruleId, String library, String libraryVersion, String planDefinition) {
            this.ruleId = ruleId;
            this.library = library;
            this.libraryVersion = libraryVersion;
            this.planDefinition = planDefinition;
        }
    }
}
