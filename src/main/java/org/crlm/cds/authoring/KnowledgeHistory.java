package org.crlm.cds.authoring;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.crlm.cds.knowledge.PublicationStamp;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.MetadataResource;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

/**
 * Every stored version of a knowledge resource (HAPI's history), and what "the same content"
 * means for a business version: the resource without its storage metadata, its narrative, the
 * ELM the server adds beside the CQL and the publication stamp ({@link PublicationStamp}).
 */
@Component
public class KnowledgeHistory {

    public static final String PUBLISHED_BY = PublicationStamp.PUBLISHED_BY;
    public static final String SCENARIO_EXPECTATION = PublicationStamp.SCENARIO_EXPECTATION;

    private final DaoRegistry daoRegistry;

    public KnowledgeHistory(DaoRegistry daoRegistry) {
        this.daoRegistry = daoRegistry;
    }

    /**
     * Every stored version, oldest first (deleted versions left out). Read one version at a time
     * (vread) rather than by a history search, whose results HAPI may serve from its search cache
     * for a minute and so miss the version published a moment ago.
     */
    public List<Resource> versions(String type, String id) {
        var dao = daoRegistry.getResourceDao(type);
        long latest;
        try {
            latest = dao.read(new IdType(type, id), new SystemRequestDetails(), true)
                    .getIdElement()
                    .getVersionIdPartAsLong();
        } catch (ResourceNotFoundException e) {
            return List.of();
        }
        List<Resource> versions = new ArrayList<>();
        for (long v = 1; v <= latest; v++) {
            try {
                IBaseResource r = dao.read(new IdType(type, id, Long.toString(v)), new SystemRequestDetails(), true);
                if (r instanceof Resource resource && !resource.isEmpty()) {
                    versions.add(resource);
                }
            } catch (ResourceNotFoundException | ResourceGoneException e) {
                // A deleted (or expunged) version.
            }
        }
        return versions;
    }

    /**
     * Why this write would give a published business version a second meaning, or empty: a
     * stored version of the same resource with the same version and other content.
     */
    public Optional<String> versionConflict(IBaseResource candidate) {
        if (!(candidate instanceof MetadataResource meta)
                || !meta.hasVersion()
                || candidate.getIdElement().getIdPart() == null) {
            return Optional.empty();
        }
        String content = content(candidate);
        for (Resource stored :
                versions(candidate.fhirType(), candidate.getIdElement().getIdPart())) {
            if (stored instanceof MetadataResource old
                    && Objects.equals(old.getVersion(), meta.getVersion())
                    && !content(stored).equals(content)) {
                return Optional.of(candidate.fhirType() + "/"
                        + candidate.getIdElement().getIdPart() + " version "
                        + meta.getVersion() + " is already published with different content (stored as _history/"
                        + stored.getIdElement().getVersionIdPart() + "); a published version always means the same "
                        + "content: change the version");
            }
        }
        return Optional.empty();
    }

    public String content(IBaseResource resource) {
        return PublicationStamp.content(resource);
    }

    public static String publishedBy(IBaseResource resource) {
        return PublicationStamp.publishedBy(resource);
    }
}
