package org.crlm.cds.cdshooks;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.MatchUrlService;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.IdType;
import org.springframework.stereotype.Component;

/**
 * Runs a prefetch query against this server's own JPA store (used only where that store is the
 * patient's record: see {@link PatientRecordProperties}). A query that
 * matches more than the configured maximum is refused rather than silently cut short.
 */
@Component
public class LocalStoreReader {

    private final DaoRegistry daoRegistry;
    private final MatchUrlService matchUrlService;
    private final FhirContext fhirContext;
    private final CdsHooksProperties properties;

    public LocalStoreReader(
            DaoRegistry daoRegistry,
            MatchUrlService matchUrlService,
            FhirContext fhirContext,
            CdsHooksProperties properties) {
        this.daoRegistry = daoRegistry;
        this.matchUrlService = matchUrlService;
        this.fhirContext = fhirContext;
        this.properties = properties;
    }

    /** Whether this server's store holds the patient (a local record answers for no one else). */
    public boolean hasPatient(String patientId) {
        if (patientId == null || patientId.isBlank()) {
            return false;
        }
        try {
            daoRegistry.getResourceDao("Patient").read(new IdType("Patient", patientId), new SystemRequestDetails());
            return true;
        } catch (ResourceNotFoundException | ResourceGoneException | IllegalArgumentException e) {
            return false;
        } catch (BaseServerResponseException e) {
            // The store could not be asked (database away): a 503, not "no such patient".
            if (ApiExceptionHandler.databaseUnavailable(e)) {
                throw e;
            }
            return false;
        }
    }

    public List<IBaseResource> read(String key, String relativeQuery) {
        int q = relativeQuery.indexOf('?');
        try {
            if (q < 0) {
                IdType id = new IdType(relativeQuery);
                try {
                    return List.of(
                            daoRegistry.getResourceDao(id.getResourceType()).read(id, new SystemRequestDetails()));
                } catch (ResourceNotFoundException | ResourceGoneException e) {
                    return List.of();
                }
            }
            String type = relativeQuery.substring(0, q);
            SearchParameterMap map =
                    matchUrlService.translateMatchUrl(relativeQuery, fhirContext.getResourceDefinition(type));
            map.setLoadSynchronous(true);
            map.setLoadSynchronousUpTo(properties.maxResourcesPerQuery() + 1);
            IBundleProvider found = daoRegistry.getResourceDao(type).search(map, new SystemRequestDetails());
            // getResources works whether HAPI ran the search synchronously or (for large results) not.
            List<IBaseResource> resources = found.getResources(0, properties.maxResourcesPerQuery() + 1);
            if (resources.size() > properties.maxResourcesPerQuery()) {
                throw new DataUnavailableException(
                        key,
                        "Prefetch '" + key + "' matches more than " + properties.maxResourcesPerQuery()
                                + " resources in the local store");
            }
            return resources;
        } catch (BaseServerResponseException | IllegalArgumentException e) {
            if (ApiExceptionHandler.databaseUnavailable(e)) {
                throw e;
            }
            throw new DataUnavailableException(key, "Prefetch '" + key + "' could not be read from the local store");
        }
    }
}
