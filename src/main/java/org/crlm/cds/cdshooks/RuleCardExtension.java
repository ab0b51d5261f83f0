package org.crlm.cds.cdshooks;

import ca.uhn.fhir.rest.api.server.cdshooks.CdsHooksExtension;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The card's {@code extension}: which rule, library version and PlanDefinition produced it,
 * so EHR analytics and feedback can be counted per rule version; and the FHIR resources
 * (type, id, version) the decision read, so a person can open each one.
 */
public class RuleCardExtension extends CdsHooksExtension {

    public static final String KEY = "org.crlm-cds.rule";
    /** The FHIR resources behind the decision, machine-readable: [{type, id, version}]. */
    public static final String RESOURCES_KEY = "org.crlm-cds.resources";

    @JsonProperty(KEY)
    private Provenance provenance;

    @JsonProperty(RESOURCES_KEY)
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY)
    private java.util.List<org.crlm.cds.knowledge.ResourceRef> resources;

    public RuleCardExtension() {}

    public RuleCardExtension(Provenance provenance) {
        this(provenance, java.util.List.of());
    }

    public RuleCardExtension(Provenance provenance, java.util.List<org.crlm.cds.knowledge.ResourceRef> resources) {
        this.provenance = provenance;
        this.resources = resources;
    }

    public java.util.List<org.crlm.cds.knowledge.ResourceRef> resources() {
        return resources;
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

        public Provenance() {}

        public Provenance(String ruleId, String library, String libraryVersion, String planDefinition) {
            this.ruleId = ruleId;
            this.library = library;
            this.libraryVersion = libraryVersion;
            this.planDefinition = planDefinition;
        }
    }
}
