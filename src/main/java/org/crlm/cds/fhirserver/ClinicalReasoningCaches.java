package org.crlm.cds.fhirserver;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import org.cqframework.cql.cql2elm.model.CompiledLibrary;
import org.hl7.elm.r1.VersionedIdentifier;
import org.opencds.cqf.cql.engine.runtime.Code;

/**
 * The caches clinical-reasoning keeps between calls: compiled libraries (by name and version)
 * and value-set expansions. A library entering the cache is a translation (our compiler
 * options translate from CQL only), so counting them shows that warm calls translate nothing.
 */
public final class ClinicalReasoningCaches {

    private final AtomicLong translations = new AtomicLong();
    private final Map<VersionedIdentifier, CompiledLibrary> libraries = new CountingMap();
    private final Map<String, List<Code>> valueSets;

    /** @param perRecord value sets whose expansion depends on the record (compose filters): never kept between calls */
    public ClinicalReasoningCaches(Predicate<String> perRecord) {
        this.valueSets = new ValueSetCache(perRecord);
    }

    public Map<VersionedIdentifier, CompiledLibrary> libraries() {
        return libraries;
    }

    public Map<String, List<Code>> valueSets() {
        return valueSets;
    }

    /** Libraries translated by clinical-reasoning since start. */
    public long translations() {
        return translations.get();
    }

    /** Forgets every compiled library and expansion (rules or terminology were published). */
    public void clear() {
        libraries.clear();
        valueSets.clear();
    }

    private final class CountingMap extends ConcurrentHashMap<VersionedIdentifier, CompiledLibrary> {

        @Override
        public CompiledLibrary put(VersionedIdentifier key, CompiledLibrary value) {
            CompiledLibrary previous = super.put(key, value);
            if (previous == null) {
                translations.incrementAndGet();
            }
            return previous;
        }

        @Override
        public CompiledLibrary putIfAbsent(VersionedIdentifier key, CompiledLibrary value) {
            CompiledLibrary previous = super.putIfAbsent(key, value);
            if (previous == null) {
                translations.incrementAndGet();
            }
            return previous;
        }

        @Override
        public CompiledLibrary computeIfAbsent(
                VersionedIdentifier key, Function<? super VersionedIdentifier, ? extends CompiledLibrary> compute) {
            return super.computeIfAbsent(key, k -> {
                CompiledLibrary value = compute.apply(k);
                if (value != null) {
                    translations.incrementAndGet();
                }
                return value;
            });
        }
    }

    /** Expansions by value-set URL (optionally {@code |version}); those of filter-defined sets are not kept. */
    private static final class ValueSetCache extends ConcurrentHashMap<String, List<Code>> {

        private final transient Predicate<String> perRecord;

        ValueSetCache(Predicate<String> perRecord) {
            this.perRecord = perRecord;
        }

        private boolean keep(String key) {
            int bar = key.indexOf('|');
            return !perRecord.test(bar < 0 ? key : key.substring(0, bar));
        }

        @Override
        public List<Code> computeIfAbsent(String key, Function<? super String, ? extends List<Code>> compute) {
            return keep(key) ? super.computeIfAbsent(key, compute) : compute.apply(key);
        }

        @Override
        public List<Code> put(String key, List<Code> value) {
            return keep(key) ? super.put(key, value) : null;
        }
    }
}
