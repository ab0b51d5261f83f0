package org.crlm.cds.cdshooks;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.MatchUrlService;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.model.api.IQueryParameterType;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.crlm.cds.fhirserver.RecordStamps;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.IdType;
import org.springframework.stereotype.Component;

/**
 * Runs a prefetch query against this server's own JPA store (used only where that store is the
 * patient's record: see {@link PatientRecordProperties}). A query that matches more than the
 * configured maximum is refused rather than silently cut short.
 *
 * <p>What a call reads for its patient is kept in memory with the patient's version stamp
 * ({@link RecordStamps}) and served again while the stamp is unchanged: each call reads the
 * stamp from the database first, and any write to the patient's compartment (or to anything
 * in no patient's compartment, such as a ValueSet) on any node changes it in the writing
 * transaction. Only reads whose answer lies in that compartment are kept: the patient itself,
 * and searches restricted to the patient by a compartment parameter ({@code patient=},
 * {@code subject=}) without chains, {@code _has} or includes; any other query is run every time.
 * Cached resources are shared between calls and must not be modified.
 */
@Component
public class LocalStoreReader {

    private final DaoRegistry daoRegistry;
    private final MatchUrlService matchUrlService;
    private final FhirContext fhirContext;
    private final CdsHooksProperties properties;
    private final RecordStamps stamps;
    private final Cache<String, CachedRecord> cache;
    private final Counter hits;
    private final Counter misses;

    public LocalStoreReader(
            DaoRegistry daoRegistry,
            MatchUrlService matchUrlService,
            FhirContext fhirContext,
            CdsHooksProperties properties,
            LocalStoreCacheProperties cacheProperties,
            RecordStamps stamps,
            MeterRegistry meters) {
        this.daoRegistry = daoRegistry;
        this.matchUrlService = matchUrlService;
        this.fhirContext = fhirContext;
        this.properties = properties;
        this.stamps = stamps;
        this.cache = cacheProperties.maxResources() <= 0
                ? null
                : Caffeine.newBuilder()
                        .maximumWeight(cacheProperties.maxResources())
                        .weigher((String patient, CachedRecord record) -> record.weight())
                        .expireAfterAccess(Duration.ofMinutes(30))
                        .build();
        this.hits = Counter.builder("cds.local.store.reads")
                .description(
                        "Local-store prefetch queries answered from the cache (hit) or run on the JPA store (miss)")
                .tag("result", "hit")
                .register(meters);
        this.misses = Counter.builder("cds.local.store.reads")
                .description(
                        "Local-store prefetch queries answered from the cache (hit) or run on the JPA store (miss)")
                .tag("result", "miss")
                .register(meters);
    }

    /** One call's view of a patient's record in the store, at the patient's stamp as read now. */
    public PatientView open(String patientId) {
        if (cache == null || patientId == null || patientId.isBlank()) {
            return new PatientView(patientId, null);
        }
        return new PatientView(patientId, stamps.current(patientId));
    }

    /** The reads of one call for one patient: from the cache where valid, else from the store. */
    public final class PatientView {

        private final String patientId;
        private final RecordStamps.Stamp stamp;

        private PatientView(String patientId, RecordStamps.Stamp stamp) {
            this.patientId = patientId;
            this.stamp = stamp;
        }

        /** Whether this server's store holds the patient (a local record answers for no one else). */
        public boolean hasPatient() {
            if (patientId == null || patientId.isBlank()) {
                return false;
            }
            try {
                return !read("patient", "Patient/" + patientId).isEmpty();
            } catch (DataUnavailableException e) {
                return false;
            }
        }

        /** The query's answer if the cache holds it at this view's stamp (no database work), else null. */
        public List<IBaseResource> cached(String query) {
            // The cache as it is now: what this call itself read a moment ago counts too.
            CachedRecord cached = stamp == null ? null : cache.getIfPresent(patientId);
            List<IBaseResource> found = cached == null || !cached.stamp().equals(stamp)
                    ? null
                    : cached.reads().get(query);
            if (found != null) {
                hits.increment();
            }
            return found;
        }

        public List<IBaseResource> read(String key, String query) {
            List<IBaseResource> found = cached(query);
            if (found != null) {
                return found;
            }
            misses.increment();
            Read read = LocalStoreReader.this.read(key, query, patientId);
            if (stamp != null && read.patientScoped()) {
                remember(patientId, stamp, query, read.resources());
            }
            return read.resources();
        }
    }

    private void remember(String patientId, RecordStamps.Stamp stamp, String query, List<IBaseResource> resources) {
        cache.asMap().compute(patientId, (id, old) -> {
            if (old != null && old.stamp().equals(stamp)) {
                return old.with(query, resources);
            }
            if (old == null || stamp.notOlderThan(old.stamp())) {
                return new CachedRecord(stamp, Map.of(query, resources));
            }
            return old; // a call that read a newer stamp was here first
        });
    }

    private record CachedRecord(RecordStamps.Stamp stamp, Map<String, List<IBaseResource>> reads) {

        CachedRecord with(String query, List<IBaseResource> resources) {
            Map<String, List<IBaseResource>> more = new HashMap<>(reads);
            more.put(query, resources);
            return new CachedRecord(stamp, Map.copyOf(more));
        }

        int weight() {
            return Math.max(1, reads.values().stream().mapToInt(List::size).sum());
        }
    }

    /** A query's answer, and whether it lies wholly in the patient's compartment (may be cached). */
    private record Read(List<IBaseResource> resources, boolean patientScoped) {}

    private Read read(String key, String relativeQuery, String patientId) {
        int q = relativeQuery.indexOf('?');
        try {
            if (q < 0) {
                IdType id = new IdType(relativeQuery);
                boolean ownPatient =
                        "Patient".equals(id.getResourceType()) && patientId != null && patientId.equals(id.getIdPart());
                try {
                    return new Read(
                            List.of(daoRegistry
                                    .getResourceDao(id.getResourceType())
                                    .read(id, new SystemRequestDetails())),
                            ownPatient);
                } catch (ResourceNotFoundException | ResourceGoneException e) {
                    return new Read(List.of(), ownPatient);
                }
            }
            String type = relativeQuery.substring(0, q);
            RuntimeResourceDefinition definition = fhirContext.getResourceDefinition(type);
            SearchParameterMap map = matchUrlService.translateMatchUrl(relativeQuery, definition);
            boolean scoped = patientScoped(definition, map, patientId);
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
            return new Read(List.copyOf(resources), scoped);
        } catch (BaseServerResponseException | IllegalArgumentException e) {
            if (ApiExceptionHandler.databaseUnavailable(e)) {
                throw e;
            }
            throw new DataUnavailableException(key, "Prefetch '" + key + "' could not be read from the local store");
        }
    }

    /**
     * Whether every resource the search can match is in the patient's compartment, so that a
     * write that changes the answer changes the patient's stamp: one of the type's Patient
     * compartment parameters names exactly this patient, and nothing reaches other resources
     * (chains, {@code _has}, includes).
     */
    private static boolean patientScoped(
            RuntimeResourceDefinition definition, SearchParameterMap map, String patientId) {
        if (patientId == null
                || !map.getIncludes().isEmpty()
                || !map.getRevIncludes().isEmpty()) {
            return false;
        }
        boolean restricted = false;
        for (Map.Entry<String, List<List<IQueryParameterType>>> param : map.entrySet()) {
            if (param.getKey().startsWith("_has")) {
                return false;
            }
            for (List<IQueryParameterType> anyOf : param.getValue()) {
                for (IQueryParameterType value : anyOf) {
                    if (value instanceof ReferenceParam ref && ref.getChain() != null) {
                        return false;
                    }
                }
            }
        }
        for (RuntimeSearchParam param : definition.getSearchParamsForCompartmentName("Patient")) {
            List<List<IQueryParameterType>> all = map.get(param.getName());
            if (all == null) {
                continue;
            }
            for (List<IQueryParameterType> anyOf : all) {
                if (anyOf.size() == 1
                        && anyOf.get(0) instanceof ReferenceParam ref
                        && ref.getMissing() == null
                        && (ref.getResourceType() == null || "Patient".equals(ref.getResourceType()))
                        && patientId.equals(ref.getIdPart())) {
                    restricted = true;
                }
            }
        }
        return restricted;
    }
}
