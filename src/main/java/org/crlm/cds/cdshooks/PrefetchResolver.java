package org.crlm.cds.cdshooks;

import ca.uhn.fhir.parser.DataFormatException;
import com.fasterxml.jackson.databind.JsonNode;
import jakarta.annotation.PreDestroy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.RuleSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.slf4j.MDC;
import org.springframework.stereotype.Component;

/**
 * Gathers the data a service's rules read, per prefetch key, in this order (CDS Hooks 2.0):
 * <ol>
 *   <li>the prefetch as sent: {@code null} means "no data"; an OperationOutcome, an absent key
 *       or a paginated result counts as not provided;</li>
 *   <li>what is not provided, from the request's fhirServer with its token, when that server
 *       is allow-listed;</li>
 *   <li>from this server's own JPA store, only where it is the patient's record: with no
 *       fhirServer in the request when {@code crlm.cds.local-store-is-patient-record} is on, or
 *       when the fhirServer is this server's own /fhir ({@link OwnFhirServer}, demo); and only
 *       for a patient the store knows;</li>
 *   <li>else 412 ({@link DataUnavailableException}) naming the missing keys: an empty or
 *       foreign store never stands in for the patient's record.</li>
 * </ol>
 * The hook's draft orders join the result last, replacing stored copies with the same id.
 * Several missing queries run side by side ({@code crlm.cds.fetch-threads}), so a call without
 * prefetch waits for the slowest query, not for their sum. Local-store reads that the store's
 * cache holds at the patient's current version stamp run no query at all ({@link LocalStoreReader}).
 */
@Component
public class PrefetchResolver {

    private final FhirJsonReader fhirJson;
    private final RemoteFhirReader remote;
    private final LocalStoreReader local;
    private final OwnFhirServer ownFhirServer;
    private final PatientRecordProperties patientRecord;
    private final ExecutorService fetchers;
    // Templates with their value sets expanded, per rule generation (the same on every call).
    private final Map<RuleSet, Map<String, String>> expanded = Collections.synchronizedMap(new WeakHashMap<>());

    public PrefetchResolver(
            FhirJsonReader fhirJson,
            RemoteFhirReader remote,
            LocalStoreReader local,
            OwnFhirServer ownFhirServer,
            PatientRecordProperties patientRecord,
            CdsHooksProperties properties) {
        this.fhirJson = fhirJson;
        this.remote = remote;
        this.local = local;
        this.ownFhirServer = ownFhirServer;
        this.patientRecord = patientRecord;
        this.fetchers = properties.fetchThreads() <= 0 ? null : fetchPool(properties.fetchThreads());
    }

    public PatientRecord resolve(ServiceDefinition service, HookRequest request, RuleSet rules) {
        Map<String, List<IBaseResource>> byKey = new LinkedHashMap<>();
        Map<String, PatientRecord.Source> sources = new LinkedHashMap<>();
        Map<String, String> missing = new LinkedHashMap<>();
        boolean fromRemote = request.fhirServer() != null && !ownFhirServer.is(request.fhirServer());
        for (Map.Entry<String, String> template : service.prefetch().entrySet()) {
            String key = template.getKey();
            JsonNode sent = request.prefetch().get(key);
            if (sent != null && sent.isNull()) {
                sources.put(key, PatientRecord.Source.PREFETCH_NULL);
                continue;
            }
            List<IBaseResource> provided = sent == null ? null : fromPrefetch(key, sent);
            if (provided != null) {
                byKey.put(key, provided);
                sources.put(key, PatientRecord.Source.PREFETCH);
                continue;
            }
            String query = PrefetchTemplates.substitute(expanded(rules, template.getValue()), request.context())
                    .orElseThrow(() -> new DataUnavailableException(
                            key,
                            "Prefetch '" + key
                                    + "' was not provided and its query needs a context value this request lacks"));
            missing.put(key, query);
            sources.put(key, fromRemote ? PatientRecord.Source.FHIR_SERVER : PatientRecord.Source.LOCAL_STORE);
            byKey.put(key, List.of()); // keeps the template order
        }
        LocalStoreReader.PatientView store = null;
        if (!missing.isEmpty() && !fromRemote) {
            store = checkLocalStoreIsTheRecord(new ArrayList<>(missing.keySet()), request);
            // What the store's cache holds for this patient at its current stamp costs no query.
            for (Map.Entry<String, String> query : List.copyOf(missing.entrySet())) {
                List<IBaseResource> cached = store.cached(query.getValue());
                if (cached != null) {
                    byKey.put(query.getKey(), cached);
                    missing.remove(query.getKey());
                }
            }
        }
        byKey.putAll(fetch(missing, request, store));
        List<IBaseResource> resources = new ArrayList<>();
        List<PatientRecord.ResourceRead> read = new ArrayList<>();
        byKey.forEach((key, list) -> {
            resources.addAll(list);
            list.forEach(r -> read.add(PatientRecord.ResourceRead.of(r, sources.get(key), key)));
        });
        if (request.context().draftOrders() != null) {
            request.context().draftOrders().getEntry().forEach(e -> {
                resources.add(e.getResource());
                read.add(PatientRecord.ResourceRead.of(
                        e.getResource(), PatientRecord.Source.HOOK_CONTEXT, "draftOrders"));
            });
        }
        return new PatientRecord(resources, sources, List.copyOf(read));
    }

    private String expanded(RuleSet rules, String template) {
        return expanded.computeIfAbsent(rules, r -> new ConcurrentHashMap<>())
                .computeIfAbsent(template, t -> PrefetchTemplates.expandValueSets(t, rules));
    }

    /** Missing data may come from the local store only where it is the patient's record, and only for a patient it knows. */
    private LocalStoreReader.PatientView checkLocalStoreIsTheRecord(List<String> keys, HookRequest request) {
        if (request.fhirServer() == null && !patientRecord.localStoreIsPatientRecord()) {
            throw new DataUnavailableException(
                    keys,
                    "Prefetch not provided for " + String.join(", ", keys)
                            + ", and no fhirServer to fetch it from: send these prefetch keys, or a fhirServer on this service's allow-list"
                            + " (this server's own FHIR store is not the patient's record here)");
        }
        LocalStoreReader.PatientView store = local.open(request.context().patientId());
        if (!store.hasPatient()) {
            throw new DataUnavailableException(
                    keys,
                    "Prefetch not provided for " + String.join(", ", keys)
                            + ", and this server's FHIR store has no Patient with the context's patientId: send these prefetch keys,"
                            + " or a fhirServer on this service's allow-list");
        }
        return store;
    }

    /** Runs the missing queries, side by side when there are several; the first failure (in key order) wins. */
    private Map<String, List<IBaseResource>> fetch(
            Map<String, String> missing, HookRequest request, LocalStoreReader.PatientView store) {
        Map<String, List<IBaseResource>> fetched = new LinkedHashMap<>();
        if (missing.size() <= 1 || fetchers == null) {
            missing.forEach((key, query) -> fetched.put(key, fetchOne(key, query, request, store)));
            return fetched;
        }
        Map<String, String> mdc = MDC.getCopyOfContextMap();
        Map<String, Future<List<IBaseResource>>> futures = new LinkedHashMap<>();
        missing.forEach((key, query) -> futures.put(key, fetchers.submit(() -> {
            // A saturated pool runs the task on the request's own thread (CallerRunsPolicy): put back
            // what the thread had, so the request keeps its correlation id in the call log.
            Map<String, String> before = MDC.getCopyOfContextMap();
            if (mdc != null) {
                MDC.setContextMap(mdc);
            }
            try {
                return fetchOne(key, query, request, store);
            } finally {
                if (before == null) {
                    MDC.clear();
                } else {
                    MDC.setContextMap(before);
                }
            }
        })));
        RuntimeException failure = null;
        for (Map.Entry<String, Future<List<IBaseResource>>> f : futures.entrySet()) {
            try {
                fetched.put(f.getKey(), f.getValue().get());
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof RuntimeException r
                            ? r
                            : new DataUnavailableException(
                                    f.getKey(), "Prefetch '" + f.getKey() + "' could not be read");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                futures.values().forEach(other -> other.cancel(true));
                throw new DataUnavailableException(f.getKey(), "Prefetch '" + f.getKey() + "' was interrupted");
            }
        }
        if (failure != null) {
            throw failure;
        }
        return fetched;
    }

    /** From the local store when a view of it is open (the store is the record), else from the request's fhirServer. */
    private List<IBaseResource> fetchOne(
            String key, String query, HookRequest request, LocalStoreReader.PatientView store) {
        return store == null
                ? remote.read(key, request.fhirServer(), request.fhirAuthorization(), query)
                : store.read(key, query);
    }

    // A full pool runs the query on the calling request thread: never queued behind other calls.
    private static ExecutorService fetchPool(int threads) {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(
                threads,
                threads,
                60,
                TimeUnit.SECONDS,
                new SynchronousQueue<>(),
                r -> {
                    Thread t = new Thread(r, "prefetch-fetch-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                },
                new ThreadPoolExecutor.CallerRunsPolicy());
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    @PreDestroy
    void stop() {
        if (fetchers != null) {
            fetchers.shutdownNow();
        }
    }

    /** The resources sent for a key, or null when the key counts as not provided. */
    private List<IBaseResource> fromPrefetch(String key, JsonNode sent) {
        IBaseResource resource;
        try {
            resource = fhirJson.read(sent);
        } catch (DataFormatException e) {
            throw new InvalidHookRequestException(
                    "prefetch." + key,
                    "prefetch." + key
                            + " is not a valid FHIR R4 resource: this service reads FHIR R4 (4.0.1) resources only, not DSTU2 or STU3");
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
