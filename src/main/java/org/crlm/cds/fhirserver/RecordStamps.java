package org.crlm.cds.fhirserver;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import jakarta.annotation.PostConstruct;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Version stamps of the FHIR store ({@code cds_record_stamp}), so that whatever is cached from
 * the store is known to be current on every node. Every write through HAPI (create, update,
 * delete, each entry of a transaction, expunge) adds 1 to the stamp of each patient whose
 * compartment the resource is in, before and after the write, and to the shared stamp when it is
 * in no patient's compartment (knowledge, terminology, a resource without a patient). The rows
 * are updated in the writing transaction itself, just before it commits: a reader that sees the
 * write sees the new stamp, on this node or any other node on the same database.
 *
 * <p>Patients share {@value #BUCKETS} rows (by a hash of their id): a write to one patient also
 * invalidates what is cached for the patients sharing its row, never less.
 */
@Component
@Interceptor
public class RecordStamps {

    static final int BUCKETS = 1024;
    static final int SHARED = -1;

    private final JdbcTemplate jdbc;
    private final FhirContext fhirContext;
    private final IInterceptorService interceptors;

    public RecordStamps(JdbcTemplate jdbc, FhirContext fhirContext, IInterceptorService interceptors) {
        this.jdbc = jdbc;
        this.fhirContext = fhirContext;
        this.interceptors = interceptors;
    }

    @PostConstruct
    void register() {
        interceptors.registerInterceptor(this);
    }

    /** The stamp under which a patient's reads are valid: the shared row and the patient's row. */
    public record Stamp(long shared, long patient) {

        /** Whether this stamp is at least as recent as the other in both rows. */
        public boolean notOlderThan(Stamp other) {
            return shared >= other.shared && patient >= other.patient;
        }
    }

    /** Reads the patient's stamp from the database (one indexed query of two rows). */
    public Stamp current(String patientId) {
        int bucket = bucket(patientId);
        long[] versions = new long[2];
        jdbc.query(
                "select bucket, version from cds_record_stamp where bucket in (?, ?)",
                rs -> {
                    versions[rs.getInt(1) == SHARED ? 0 : 1] = rs.getLong(2);
                },
                SHARED,
                bucket);
        return new Stamp(versions[0], versions[1]);
    }

    /** The stamp row a patient shares with the patients whose id hashes alike. */
    public static int bucket(String patientId) {
        return Math.floorMod(patientId.hashCode(), BUCKETS);
    }

    @Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_CREATED)
    public void created(IBaseResource resource) {
        changed(resource);
    }

    @Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_UPDATED)
    public void updated(IBaseResource previous, IBaseResource resource) {
        changed(previous, resource);
    }

    @Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_DELETED)
    public void deleted(IBaseResource resource) {
        changed(resource);
    }

    // Expunge and $delete-expunge are off in this server (JpaStorageSettings); should they be
    // turned on, they invalidate everything.
    @Hook(Pointcut.STORAGE_PRESTORAGE_EXPUNGE_RESOURCE)
    public void expunged(IBaseResource resource) {
        bump(Set.of(SHARED));
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_EXPUNGE_EVERYTHING)
    public void expungedEverything() {
        bump(Set.of(SHARED));
    }

    @Hook(Pointcut.STORAGE_PRE_DELETE_EXPUNGE)
    public void deleteExpunge() {
        bump(Set.of(SHARED));
    }

    private void changed(IBaseResource... versions) {
        Set<Integer> buckets = new TreeSet<>();
        for (IBaseResource resource : versions) {
            if (resource == null) {
                continue;
            }
            boolean owned = false;
            if ("Patient".equals(resource.fhirType()) && resource.getIdElement().getIdPart() != null) {
                buckets.add(bucket(resource.getIdElement().getIdPart()));
                owned = true;
            }
            for (IIdType owner :
                    fhirContext.newTerser().getCompartmentOwnersForResource("Patient", resource, Set.of())) {
                if (owner.getIdPart() != null) {
                    buckets.add(bucket(owner.getIdPart()));
                    owned = true;
                }
            }
            if (!owned) {
                buckets.add(SHARED);
            }
        }
        bump(buckets);
    }

    /**
     * Adds the buckets to those the current transaction bumps just before it commits (once
     * each, in ascending order, so that two writers never wait for each other's rows in a
     * cycle); without a transaction, bumps them at once.
     */
    private void bump(Set<Integer> buckets) {
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            buckets.forEach(this::increment);
            return;
        }
        @SuppressWarnings("unchecked")
        Set<Integer> pending = (Set<Integer>) TransactionSynchronizationManager.getResource(this);
        if (pending == null) {
            Set<Integer> fresh = new TreeSet<>();
            pending = fresh;
            TransactionSynchronizationManager.bindResource(this, fresh);
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void beforeCommit(boolean readOnly) {
                    // Only on the writing transaction's own connection is the new stamp visible
                    // together with the write, never before it.
                    if (!TransactionSynchronizationManager.hasResource(jdbc.getDataSource())) {
                        throw new IllegalStateException(
                                "The FHIR write's transaction holds no JDBC connection for the record stamps");
                    }
                    fresh.forEach(RecordStamps.this::increment);
                }

                @Override
                public void afterCompletion(int status) {
                    TransactionSynchronizationManager.unbindResourceIfPossible(RecordStamps.this);
                }
            });
        }
        pending.addAll(buckets);
    }

    private void increment(int bucket) {
        jdbc.update("update cds_record_stamp set version = version + 1 where bucket = ?", bucket);
    }
}
