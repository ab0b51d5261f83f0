package org.crlm.cds.rules;

import ca.uhn.fhir.context.FhirContext;
import java.util.EnumSet;
import java.util.Map;
import org.opencds.cqf.cql.engine.data.CompositeDataProvider;
import org.opencds.cqf.cql.engine.execution.CqlEngine;
import org.opencds.cqf.cql.engine.execution.Environment;
import org.opencds.cqf.cql.engine.model.CachingModelResolverDecorator;
import org.opencds.cqf.cql.engine.model.ModelResolver;

/**
 * Evaluates compiled rules against one patient's in-memory data: no database, no network,
 * no translation. Thread-safe; each call opens its own {@link EvaluationSession}.
 */
public final class RuleEngine {

    static final String FHIR_MODEL_URI = "http://hl7.org/fhir";

    private final ModelResolver modelResolver =
            new CachingModelResolverDecorator(new FastR4ModelResolver(FhirContext.forR4Cached()));

    public EvaluationSession open(RuleSet rules, PatientData data, Map<String, Object> parameters) {
        PatientDataRetrieveProvider retrieve =
                new PatientDataRetrieveProvider(data, modelResolver, rules.terminology());
        Environment environment = new Environment(
                rules.libraryManager(),
                Map.of(FHIR_MODEL_URI, new CompositeDataProvider(modelResolver, retrieve)),
                rules.terminology());
        CqlEngine engine = new CqlEngine(environment, EnumSet.of(CqlEngine.Options.EnableExpressionCaching));
        return new EvaluationSession(rules, engine, data.patientId(), parameters, data.evaluationTime());
    }
}
