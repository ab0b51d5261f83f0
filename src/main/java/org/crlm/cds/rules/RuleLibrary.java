package org.crlm.cds.rules;

import java.util.Set;
import org.hl7.elm.r1.VersionedIdentifier;

/** A compiled rule library in service: its canonical url, CQL identity and expression names. */
public record RuleLibrary(
        String url,
        String name,
        String version,
        String resourceId,
        VersionedIdentifier identifier,
        Set<String> expressionNames,
        String cql,
        org.hl7.elm.r1.Library elm) {

    /** The ELM as JSON (application/elm+json), for storing beside the CQL. */
    public String elmJson() {
        return new org.cqframework.cql.elm.serializing.ElmJsonLibraryWriter().writeAsString(elm);
    }
}
