package org.crlm.cds.cdshooks;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.springframework.stereotype.Component;

/**
 * Gathers the data a service's rules read, per prefetch key, in this order (CDS Hooks 2.0):
 * <ol>
 *   <li>the prefetch as sent: {@code null} means "no data"; an OperationOutcome, an absent key
 *       or a paginated result counts as not provided;</li>
 *   <li>what is not provided, from the request's fhirServer with its token, when that server
 *       is allow-listed;</li>
 *   <li>with no fhirServer in the request, from this server's own JPA store;</li>
 *   <li>else 412 ({@link DataUnavailableException}).</li>
 * </ol>
 * The hook's draft orders join the result last, replacing stored copies with the same id.
 */
@Component
public class PrefetchResolver {

    private final FhirContext fhirContext;
    private final RemoteFhirReader remote;
    private final LocalStoreReader local;

    public PrefetchResolver(FhirContext fhirContext, RemoteFhirReader remote, LocalStoreReader local) {
        this.fhirContext = fhirContext;
        this.remote = remote;
        this.local = local;
    }

    public PatientRecord resolve(CdsService service, HookRequest request, RuleSet rules) {
        List<IBaseResource> resources = new ArrayList<>();
        Map<String, PatientRecord.Source> sources = new LinkedHashMap<>();
        for (Map.Entry<String, String> template : service.prefetch().entrySet()) {
            String key = template.getKey();
            JsonNode sent = request.prefetch().get(key);
            if (sent != null && sent.isNull()) {
                sources.put(key, PatientRecord.Source.PREFETCH_NULL);
                continue;
            }
            if (sent != null) {
                List<IBaseResource> provided = fromPrefetch(key, sent);
                if (provided != null) {
                    resources.addAll(provided);
                    sources.put(key, PatientRecord.Source.PREFETCH);
                    continue;
                }
            }
            String query = PrefetchTemplates.substitute(PrefetchTemplates.expandValueSets(template.getValue(), rules),
                    request.context()).orElseThrow(() -> new DataUnavailableException(key,
                    "Prefetch '" + key + "' was not provided and its query needs a context value this request lacks"));
            if (request.fhirServer() != null) {
                resources.addAll(remote.read(key, request.fhirServer(), request.fhirAuthorization(), query));
                sources.put(key, PatientRecord.Source.FHIR_SERVER);
            } else {
                resources.addAll(local.read(key, query));
                sources.put(key, PatientRecord.Source.LOCAL_STORE);
            }
        }
        if (request.context().draftOrders() != null) {
            request.context().draftOrders().getEntry().forEach(e -> resources.add(e.getResource()));
        }
        return new PatientRecord(resources, sources);
    }

    /** The resources sent for a key, or null when the key counts as not provided. */
    private List<IBaseResource> fromPrefetch(String key, JsonNode sent) {
        IBaseResource resource;
        try {
            resource = fhirContext.newJsonParser().parseResource(sent.toString());
        } catch (DataFormatException e) {
            throw new InvalidHookRequestException("prefetch." + key, "prefetch." + key + " is not a valid FHIR R4 resource");
        }
        if (resource instanceof OperationOutcome) {
            return null;
        }
        if (resource instanceof Bundle bundle) {
            if (bundle.getLink(Bundle.LINK_NEXT) != null) {
                return null; // paginated: fetch the whole result instead
            }
            List<IBaseResource> entries = new ArrayList<>();
            boolean onlyOutcomes = !bundle.getEntry().isEmpty();
            for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
                if (entry.getResource() instanceof OperationOutcome) {
                    continue;
                }
                onlyOutcomes = false;
                if (entry.getResource() != null) {
                    entries.add(entry.getResource());
                }
            }
            return onlyOutcomes ? null : entries;
        }
        return List.of(resource);
    }
}
