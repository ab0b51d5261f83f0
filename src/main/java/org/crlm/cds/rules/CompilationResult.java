package org.crlm.cds.rules;

import java.util.List;
import java.util.Map;
import org.cqframework.cql.cql2elm.model.CompiledLibrary;
import org.hl7.elm.r1.VersionedIdentifier;

/** What translating a set of CQL libraries together produced. */
public record CompilationResult(
        List<CqlMessage> errors, List<CqlMessage> warnings, Map<VersionedIdentifier, CompiledLibrary> libraries) {

    public boolean ok() {
        return errors.isEmpty();
    }
}
