package org.crlm.cds.knowledge;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.rules.KnowledgeResources;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.springframework.stereotype.Component;

/** Reads the knowledge resources (Libraries, PlanDefinitions, ValueSets, ...) currently stored in the JPA server. */
@Component
public class KnowledgeRepository {

    private final DaoRegistry daoRegistry;

    public KnowledgeRepository(DaoRegistry daoRegistry) {
        this.daoRegistry = daoRegistry;
    }

    public KnowledgeResources load() {
        List<IBaseResource> all = new ArrayList<>();
        for (String type : KnowledgeResources.TYPES) {
            IBundleProvider found = daoRegistry
                    .getResourceDao(type)
                    .search(SearchParameterMap.newSynchronous(), new SystemRequestDetails());
            all.addAll(found.getAllResources());
        }
        return KnowledgeResources.of(all);
    }
}
