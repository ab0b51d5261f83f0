package org.crlm.cds.rules;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rule set in service. A new generation is swapped in whole and atomically; calls in
 * flight finish on the generation they started with. A build that fails leaves the last
 * good rules serving.
 */
public final class RuleLibraryCache {

    private static final Logger log = LoggerFactory.getLogger(RuleLibraryCache.class);

    private final RuleSetBuilder builder;
    private final AtomicReference<RuleSet> current = new AtomicReference<>();
    private final List<Consumer<RuleSet>> swapListeners = new CopyOnWriteArrayList<>();

    public RuleLibraryCache(RuleSetBuilder builder) {
        this.builder = builder;
    }

    public Optional<RuleSet> current() {
        return Optional.ofNullable(current.get());
    }

    public RuleSetBuilder builder() {
        return builder;
    }

    /** Builds without putting anything in service: what a publish would give. */
    public RuleSetBuilder.Result validate(KnowledgeResources candidate) {
        return builder.build(candidate);
    }

    /** Builds from the given knowledge and, when it compiles, puts it in service. */
    public synchronized RuleSetBuilder.Result rebuild(KnowledgeResources knowledge) {
        RuleSetBuilder.Result result = builder.build(knowledge);
        result.ruleSet()
                .ifPresentOrElse(
                        this::swap,
                        () -> log.error(
                                "Rules not updated, the last good rules keep serving: {} problem(s), first: {}",
                                result.problems().size(),
                                result.problems().get(0)));
        return result;
    }

    public void swap(RuleSet ruleSet) {
        RuleSet previous = current.getAndSet(ruleSet);
        log.info(
                "Rules in service: generation {} ({}), replacing generation {}",
                ruleSet.generation(),
                describe(ruleSet),
                previous == null ? "none" : previous.generation());
        for (Consumer<RuleSet> listener : swapListeners) {
            try {
                listener.accept(ruleSet);
            } catch (RuntimeException e) {
                log.error("A check after the swap to generation {} failed: {}", ruleSet.generation(), e.toString());
            }
        }
    }

    /** Called with every rule set put in service, right after the swap (e.g. a synthetic evaluation). */
    public void onSwap(Consumer<RuleSet> listener) {
        swapListeners.add(listener);
    }

    private static String describe(RuleSet rules) {
        StringBuilder text = new StringBuilder();
        for (RuleLibrary library : rules.libraries()) {
            if (!text.isEmpty()) {
                text.append(", ");
            }
            text.append(library.name()).append(' ').append(library.version());
        }
        return text.toString();
    }
}
