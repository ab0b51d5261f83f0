package org.crlm.cds.support;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Path;
import org.crlm.cds.knowledge.RepositoryFiles;
import org.crlm.cds.rules.CqlLibraryCompiler;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.rules.RuleSetBuilder;

/**
 * The rules as the repository holds them (cql/ and fhir-resources/), translated once per test
 * JVM without a server: what the fast test tier evaluates.
 */
public final class RepositoryRules {

    private static RuleSet rules;

    private RepositoryRules() {}

    public static synchronized RuleSet get() {
        if (rules == null) {
            var knowledge = new RepositoryFiles(FhirContext.forR4Cached())
                    .knowledge(Path.of("cql"), Path.of("fhir-resources"), "http://crlm-cds.org/fhir");
            RuleSetBuilder.Result built = new RuleSetBuilder(new CqlLibraryCompiler()).build(knowledge);
            if (!built.ok()) {
                throw new IllegalStateException("The repository's rules do not translate: " + built.problems());
            }
            rules = built.ruleSet().orElseThrow();
        }
        return rules;
    }
}
