package org.crlm.cds.rules;

import ca.uhn.fhir.context.FhirContext;
import org.opencds.cqf.cql.engine.fhir.model.R4FhirModelResolver;

/**
 * The engine's R4 model resolver, minus a regular expression compiled on every property
 * access: the 4.4.0 resolver splits each path with a new Regex, which the hot-path profile
 * showed as about 13% of evaluation time. Same semantics; indexed paths use the original.
 */
final class FastR4ModelResolver extends R4FhirModelResolver {

    FastR4ModelResolver(FhirContext fhirContext) {
        super(fhirContext);
    }

    @Override
    public Object resolvePath(Object target, String path) {
        if (path == null || path.indexOf('[') >= 0) {
            return super.resolvePath(target, path);
        }
        if (path.indexOf('.') < 0) {
            return path.isEmpty() ? target : resolveProperty(target, path);
        }
        Object current = target;
        int start = 0;
        while (true) {
            int dot = path.indexOf('.', start);
            String identifier = dot < 0 ? path.substring(start) : path.substring(start, dot);
            if (!identifier.isEmpty()) {
                current = resolveProperty(current, identifier);
            }
            if (dot < 0) {
                return current;
            }
            start = dot + 1;
        }
    }
}
