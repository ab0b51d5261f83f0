package org.crlm.cds.cdshooks;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServicesJson;
import java.util.Map;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.RuleSet;
import org.springframework.stereotype.Component;

/**
 * The discovery response: every service of the rules in service, with its prefetch templates
 * and an extension stating the FHIR version it reads (R4).
 */
@Component
public class DiscoveryDocument {

    private final CdsHooksProperties properties;

    public DiscoveryDocument(CdsHooksProperties properties) {
        this.properties = properties;
    }

    public CdsServicesJson build(RuleSet rules, ServiceCatalog catalog) {
        CdsServicesJson services = new CdsServicesJson();
        for (ServiceDefinition service : catalog.services(rules)) {
            CdsServiceDescriptor descriptor = new CdsServiceDescriptor();
            descriptor.setId(service.id());
            descriptor.setHook(service.hook());
            descriptor.setTitle(service.title());
            descriptor.setDescription(service.description());
            descriptor.setUsageRequirements(service.usageRequirements());
            descriptor.setExtension(new FhirVersionExtension());
            for (Map.Entry<String, String> template : service.prefetch().entrySet()) {
                descriptor.addPrefetch(
                        template.getKey(),
                        properties.advertiseExpandedCodes()
                                ? PrefetchTemplates.expandValueSets(template.getValue(), rules)
                                : template.getValue());
            }
            services.addService(descriptor);
        }
        return services;
    }
}
