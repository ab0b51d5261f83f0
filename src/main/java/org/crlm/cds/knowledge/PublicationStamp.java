package org.crlm.cds.knowledge;

import ca.uhn.fhir.context.FhirContext;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.Resource;

/**
 * What a publish adds to a knowledge resource, and the content a business version stands for.
 * A version written by a publish (FHIR API, console, dev mode) carries {@link #PUBLISHED_BY};
 * one written by the start-up loader from the repository does not.
 */
public final class PublicationStamp {

    /** Who published this version (the token's subject, or the tool that published it). */
    public static final String PUBLISHED_BY = "http://crlm-cds.org/fhir/StructureDefinition/published-by";
    /** A scenario's new expected rules, carried by the write that changes them (removed before storing). */
    public static final String SCENARIO_EXPECTATION =
            "http://crlm-cds.org/fhir/StructureDefinition/scenario-expectation";

    private PublicationStamp() {}

    public static String publishedBy(IBaseResource resource) {
        if (resource instanceof DomainResource domain && domain.hasExtension(PUBLISHED_BY)) {
            return domain.getExtensionByUrl(PUBLISHED_BY).getValue().primitiveValue();
        }
        return null;
    }

    /** The resource as JSON without storage metadata, narrative, the ELM the server adds and publication stamps. */
    public static String content(IBaseResource resource) {
        Resource copy = ((Resource) resource).copy();
        copy.setMeta(null);
        copy.setIdElement(null);
        if (copy instanceof DomainResource domain) {
            domain.setText(null);
            domain.getExtension()
                    .removeIf(e -> PUBLISHED_BY.equals(e.getUrl()) || SCENARIO_EXPECTATION.equals(e.getUrl()));
        }
        if (copy instanceof Library library) {
            library.getContent().removeIf(c -> "application/elm+json".equals(c.getContentType()));
        }
        return FhirContext.forR4Cached().newJsonParser().setPrettyPrint(true).encodeResourceToString(copy);
    }
}
