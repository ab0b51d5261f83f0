package org.crlm.cds.support;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Path;
import org.crlm.cds.knowledge.RepositoryFiles;
import org.crlm.cds.rules.KnowledgeResources;

/** How many knowledge resources the repository holds, so no test breaks when an informatician adds one. */
public final class RepositoryCounts {

    private RepositoryCounts() {}

    private static KnowledgeResources knowledge() {
        return new RepositoryFiles(FhirContext.forR4Cached())
                .knowledge(Path.of("cql"), Path.of("fhir-resources"), "http://crlm-cds.org/fhir");
    }

    public static int all() {
        return knowledge().all().size();
    }

    public static int ofType(String type) {
        return (int) knowledge().all().stream()
                .filter(r -> r.fhirType().equals(type))
                .count();
    }
}
