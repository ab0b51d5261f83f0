package org.crlm.cds.knowledge;

import ca.uhn.fhir.jpa.cache.IResourceChangeEvent;
import ca.uhn.fhir.jpa.cache.IResourceChangeListener;
import ca.uhn.fhir.jpa.cache.IResourceChangeListenerCache;
import ca.uhn.fhir.jpa.cache.IResourceChangeListenerRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleLibraryCache;
import org.hl7.fhir.instance.model.api.IIdType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * Keeps this node's rules in step with the database when rules are published through another
 * node: HAPI's resource-change listeners watch the knowledge resource types, and this node
 * asks them to compare versions every {@code crlm.knowledge.sync-interval}. A change
 * rebuilds the rule set from the database (unchanged libraries are not translated again).
 */
@Component
public class KnowledgeSync implements IResourceChangeListener, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(KnowledgeSync.class);

    private final IResourceChangeListenerRegistry registry;
    private final KnowledgeRepository repository;
    private final RuleLibraryCache ruleCache;
    private final KnowledgeProperties properties;
    private final List<IResourceChangeListenerCache> caches = new ArrayList<>();
    private final AtomicBoolean changed = new AtomicBoolean();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "knowledge-sync");
        t.setDaemon(true);
        return t;
    });

    public KnowledgeSync(
            IResourceChangeListenerRegistry registry,
            KnowledgeRepository repository,
            RuleLibraryCache ruleCache,
            KnowledgeProperties properties) {
        this.registry = registry;
        this.repository = repository;
        this.ruleCache = ruleCache;
        this.properties = properties;
    }

    public synchronized void start() {
        if (!caches.isEmpty()) {
            return;
        }
        long interval = properties.syncInterval().toMillis();
        for (String type : KnowledgeResources.TYPES) {
            IResourceChangeListenerCache cache = registry.registerResourceResourceChangeListener(
                    type, SearchParameterMap.newSynchronous(), this, interval);
            cache.forceRefresh();
            caches.add(cache);
        }
        changed.set(false);
        timer.scheduleWithFixedDelay(this::poll, interval, interval, TimeUnit.MILLISECONDS);
        log.info(
                "Watching {} for rules published through other nodes, every {} ms", KnowledgeResources.TYPES, interval);
    }

    private synchronized void poll() {
        try {
            for (IResourceChangeListenerCache cache : caches) {
                cache.refreshCacheIfNecessary();
            }
            rebuildIfChanged();
        } catch (RuntimeException e) {
            log.warn("Rule sync check failed; will try again: {}", e.toString());
        }
    }

    /**
     * Compares versions with the database now and rebuilds if anything changed, instead of at
     * the next tick; afterwards the timer finds nothing to do until the database changes again.
     */
    public synchronized void syncNow() {
        caches.forEach(IResourceChangeListenerCache::forceRefresh);
        rebuildIfChanged();
    }

    private void rebuildIfChanged() {
        if (changed.getAndSet(false)) {
            ruleCache.rebuild(repository.load());
        }
    }

    @Override
    public void handleInit(Collection<IIdType> resourceIds) {
        // The loader has just built the rules from the same data.
    }

    @Override
    public void handleChange(IResourceChangeEvent event) {
        if (!event.isEmpty()) {
            changed.set(true);
        }
    }

    @Override
    public void destroy() {
        timer.shutdownNow();
        caches.forEach(registry::unregisterResourceResourceChangeListener);
    }
}
