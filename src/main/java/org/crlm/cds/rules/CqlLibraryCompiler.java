package org.crlm.cds.rules;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kotlinx.io.Buffer;
import kotlinx.io.Source;
import org.cqframework.cql.cql2elm.CqlCompilerException;
import org.cqframework.cql.cql2elm.CqlCompilerOptions;
import org.cqframework.cql.cql2elm.LibraryBuilder;
import org.cqframework.cql.cql2elm.LibraryManager;
import org.cqframework.cql.cql2elm.LibrarySourceProvider;
import org.cqframework.cql.cql2elm.ModelManager;
import org.cqframework.cql.cql2elm.model.CompiledLibrary;
import org.cqframework.cql.cql2elm.tracking.TrackBack;
import org.hl7.elm.r1.VersionedIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Translates CQL to ELM in memory. Translation happens at start-up and when a library is
 * published, never on the request path; {@link #translations()} counts every library
 * translated so that can be checked. Every translation runs within the {@link CqlBudget}: sources
 * too long or nested too deep are refused before the translator sees them, and a translation
 * that uses more than its processor time is given up on (it runs on a thread of its own, with a
 * large stack) and reported.
 */
public final class CqlLibraryCompiler {

    private static final Pattern INCLUDE =
            Pattern.compile("^\\s*include\\s+(?:\"([^\"]+)\"|([A-Za-z_][A-Za-z0-9_]*))", Pattern.MULTILINE);

    /** Enough for every library of a few rule sets in flight (service, console drafts). */
    public static final int DEFAULT_CACHE_SIZE = 32;

    private static final Logger log = LoggerFactory.getLogger(CqlLibraryCompiler.class);

    /**
     * The translator recurses per level of nesting: it runs on a thread of its own with this
     * stack, so a source within the budget never overflows and one beyond it overflows there.
     */
    private static final long TRANSLATOR_STACK_BYTES = 64L * 1024 * 1024;

    private final CqlBudget budget;
    /** Replaced when a translation is abandoned, which may still be using the old one. */
    private volatile ModelManager modelManager = new ModelManager();
    /**
     * FHIRHelpers and other libraries that come with the translator, compiled once. Bounded by
     * what the translator bundles: a source that includes anything else fails to compile.
     */
    private final Map<VersionedIdentifier, CompiledLibrary> bundledLibraries = new ConcurrentHashMap<>();
    /**
     * Compiled libraries by the SHA-256 of their source (and of the sources they include), so
     * an unchanged library is not translated twice. Bounded: the console validates a draft at
     * every pause in typing, and each draft would otherwise stay here for good.
     */
    private final Cache<String, CompiledLibrary> bySourceHash;

    private final AtomicLong translations = new AtomicLong();

    public CqlLibraryCompiler() {
        this(DEFAULT_CACHE_SIZE, CqlBudget.DEFAULTS);
    }

    public CqlLibraryCompiler(int cacheSize) {
        this(cacheSize, CqlBudget.DEFAULTS);
    }

    /**
     * @param cacheSize how many compiled libraries to keep for reuse
     * @param budget    the bounds on each source and the deadline of each translation
     */
    public CqlLibraryCompiler(int cacheSize, CqlBudget budget) {
        this.budget = budget;
        // Evictions run on the calling thread, so the bound holds when compile returns.
        this.bySourceHash = Caffeine.newBuilder()
                .maximumSize(cacheSize)
                .executor(Runnable::run)
                .build();
    }

    public static CqlCompilerOptions options() {
        CqlCompilerOptions options = CqlCompilerOptions.defaultOptions();
        options.getOptions().add(CqlCompilerOptions.Options.EnableLocators);
        options.getOptions().add(CqlCompilerOptions.Options.EnableAnnotations);
        options.setSignatureLevel(LibraryBuilder.SignatureLevel.All);
        options.setEnableCqlOnly(true);
        return options;
    }

    public CqlBudget budget() {
        return budget;
    }

    /** Number of CQL libraries translated by this compiler since start. */
    public long translations() {
        return translations.get();
    }

    /**
     * Translates every source (included libraries first) with the sources resolving each
     * other's includes; FHIRHelpers comes from the translator. Within the budget: a source
     * beyond its bounds is refused with the line and column where it crosses them, and a
     * translation past its processor time is reported as an error for every source.
     */
    public synchronized CompilationResult compile(Collection<CqlSource> sources) {
        ExecutorService thread = Executors.newSingleThreadExecutor(task -> {
            Thread worker = new Thread(null, task, "cql-translation", TRANSLATOR_STACK_BYTES);
            worker.setDaemon(true);
            return worker;
        });
        try {
            return CpuBoundedRun.run(
                    thread,
                    () -> translate(sources),
                    budget.translationCpuLimit(),
                    System.nanoTime() + budget.translationCpuLimit().toNanos() * 10);
        } catch (CpuBoundedRun.Exceeded e) {
            modelManager = new ModelManager();
            log.error(
                    "CQL translation of {} given up: {} (crlm.rules.budget.translation-cpu-limit)",
                    sources.stream().map(CqlSource::name).toList(),
                    e.reason());
            return failedForEvery(
                    sources,
                    "Translation was given up: " + e.reason()
                            + " (crlm.rules.budget.translation-cpu-limit); simplify the library");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            return failedForEvery(
                    sources,
                    cause instanceof StackOverflowError
                            ? TOO_DEEP_FOR_THE_TRANSLATOR
                            : "Translation failed: " + cause.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failedForEvery(sources, "Translation was interrupted");
        } finally {
            // The thread ends with its task, even one given up on.
            thread.shutdown();
        }
    }

    private static final String TOO_DEEP_FOR_THE_TRANSLATOR =
            "The library is nested too deeply for the translator; split its expressions into named definitions";

    private static CompilationResult failedForEvery(Collection<CqlSource> sources, String message) {
        List<CqlMessage> errors = sources.stream()
                .map(s -> new CqlMessage(CqlMessage.Severity.ERROR, s.name(), null, null, message))
                .toList();
        return new CompilationResult(errors, List.of(), Map.of());
    }

    private CompilationResult translate(Collection<CqlSource> sources) {
        Map<String, CqlSource> byKey = new LinkedHashMap<>();
        for (CqlSource s : sources) {
            byKey.put(s.key(), s);
        }
        Map<String, String> cacheKeys = cacheKeys(byKey.values());
        Map<VersionedIdentifier, CompiledLibrary> cache = new ConcurrentHashMap<>(bundledLibraries);
        Set<CqlMessage> errors = new LinkedHashSet<>();
        for (CqlSource s : List.copyOf(byKey.values())) {
            CompiledLibrary known = bySourceHash.getIfPresent(cacheKeys.get(s.key()));
            if (known != null) {
                cache.put(identifier(s), known);
                continue;
            }
            // Checked before the translator sees it; a refused source is not translated at all.
            Optional<CqlMessage> beyond;
            try {
                beyond = CqlSourceLimits.check(s, budget);
            } catch (StackOverflowError e) {
                beyond = Optional.of(
                        new CqlMessage(CqlMessage.Severity.ERROR, s.name(), null, null, TOO_DEEP_FOR_THE_TRANSLATOR));
            }
            if (beyond.isPresent()) {
                errors.add(beyond.get());
                byKey.remove(s.key());
            }
        }
        LibraryManager manager = new LibraryManager(modelManager, options(), cache);
        manager.getLibrarySourceLoader().registerProvider(new SourceSetProvider(byKey));

        Set<CqlMessage> warnings = new LinkedHashSet<>();
        Map<VersionedIdentifier, CompiledLibrary> compiled = new LinkedHashMap<>();
        for (CqlSource source : dependencyOrder(byKey.values())) {
            if (source.version() == null) {
                errors.add(new CqlMessage(
                        CqlMessage.Severity.ERROR,
                        source.name(),
                        1,
                        1,
                        "The library header needs a version: library " + source.name() + " version '1.0.0'"));
                continue;
            }
            List<CqlCompilerException> found = new ArrayList<>();
            VersionedIdentifier id = identifier(source);
            try {
                CompiledLibrary library = manager.resolveLibrary(id, found);
                if (!CqlCompilerException.hasErrors(found)) {
                    compiled.put(id, library);
                    bySourceHash.put(cacheKeys.get(source.key()), library);
                }
            } catch (CqlCompilerException e) {
                found.add(e);
            } catch (RuntimeException e) {
                errors.add(new CqlMessage(
                        CqlMessage.Severity.ERROR, source.name(), null, null, String.valueOf(e.getMessage())));
            } catch (StackOverflowError e) {
                errors.add(new CqlMessage(
                        CqlMessage.Severity.ERROR, source.name(), null, null, TOO_DEEP_FOR_THE_TRANSLATOR));
            }
            for (CqlCompilerException e : found) {
                CqlMessage message = toMessage(e, source.name());
                (message.severity() == CqlMessage.Severity.ERROR ? errors : warnings).add(message);
            }
        }
        cache.forEach((id, library) -> {
            if (!byKey.containsKey(id.getId() + "|" + id.getVersion())) {
                bundledLibraries.putIfAbsent(id, library);
            }
        });
        // The evaluator needs every library the sources include (FHIRHelpers too), already compiled.
        Map<VersionedIdentifier, CompiledLibrary> all = new LinkedHashMap<>(cache);
        all.keySet().removeIf(id -> byKey.containsKey(id.getId() + "|" + id.getVersion()) && !compiled.containsKey(id));
        return new CompilationResult(List.copyOf(errors), List.copyOf(warnings), Map.copyOf(all));
    }

    public static VersionedIdentifier identifier(CqlSource source) {
        return new VersionedIdentifier().withId(source.name()).withVersion(source.version());
    }

    /** Compiled libraries kept for reuse now (after pending evictions). */
    public long cachedLibraries() {
        bySourceHash.cleanUp();
        return bySourceHash.estimatedSize();
    }

    /**
     * SHA-256 of each source's text and, in include order, of the keys of the sources it
     * includes: a library whose include changed is translated again, so the publish check
     * sees a broken reference instead of reusing a translation made against the old include.
     */
    private static Map<String, String> cacheKeys(Collection<CqlSource> sources) {
        Map<String, CqlSource> byName = new HashMap<>();
        for (CqlSource s : sources) {
            byName.putIfAbsent(s.name(), s);
        }
        Map<String, String> keys = new HashMap<>();
        for (CqlSource s : sources) {
            keys.put(s.key(), cacheKey(s, byName, new LinkedHashSet<>()));
        }
        return keys;
    }

    private static String cacheKey(CqlSource source, Map<String, CqlSource> byName, Set<String> path) {
        MessageDigest sha256 = sha256();
        sha256.update(source.text().getBytes(StandardCharsets.UTF_8));
        if (path.add(source.name())) {
            for (String included : includedNames(source)) {
                CqlSource dependency = byName.get(included);
                if (dependency != null && !path.contains(included)) {
                    sha256.update((byte) 0);
                    sha256.update(cacheKey(dependency, byName, path).getBytes(StandardCharsets.US_ASCII));
                }
            }
            path.remove(source.name());
        }
        return HexFormat.of().formatHex(sha256.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java runtime provides SHA-256", e);
        }
    }

    private static CqlMessage toMessage(CqlCompilerException e, String fallbackLibrary) {
        CqlMessage.Severity severity =
                switch (e.getSeverity()) {
                    case Error -> CqlMessage.Severity.ERROR;
                    case Warning -> CqlMessage.Severity.WARNING;
                    default -> CqlMessage.Severity.INFO;
                };
        TrackBack where = e.getLocator();
        if (where == null) {
            return new CqlMessage(severity, fallbackLibrary, null, null, e.getMessage());
        }
        String library = where.getLibrary() != null && where.getLibrary().getId() != null
                ? where.getLibrary().getId()
                : fallbackLibrary;
        // Syntax errors carry 0-based columns, semantic errors 1-based: report 1-based always.
        int column = e.getClass().getSimpleName().contains("Syntax") ? where.getStartChar() + 1 : where.getStartChar();
        return new CqlMessage(severity, library, where.getStartLine(), Math.max(1, column), e.getMessage());
    }

    /** Libraries that others include come first, so their errors are reported where they are. */
    private static List<CqlSource> dependencyOrder(Collection<CqlSource> sources) {
        Map<String, Set<String>> includes = new HashMap<>();
        for (CqlSource s : sources) {
            includes.put(s.name(), includedNames(s));
        }
        List<CqlSource> ordered = new ArrayList<>(sources);
        ordered.sort(Comparator.comparingInt(s -> depth(s.name(), includes, new LinkedHashSet<>())));
        return ordered;
    }

    private static Set<String> includedNames(CqlSource source) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = INCLUDE.matcher(source.text());
        while (m.find()) {
            names.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        return names;
    }

    private static int depth(String name, Map<String, Set<String>> includes, Set<String> seen) {
        if (!seen.add(name)) {
            return 0;
        }
        int max = 0;
        for (String included : includes.getOrDefault(name, Set.of())) {
            max = Math.max(max, 1 + depth(included, includes, seen));
        }
        return max;
    }

    /** Serves the sources being compiled to the translator; each served text is one translation. */
    private final class SourceSetProvider implements LibrarySourceProvider {
        private final Map<String, CqlSource> byKey;

        SourceSetProvider(Map<String, CqlSource> byKey) {
            this.byKey = byKey;
        }

        @Override
        public Source getLibrarySource(VersionedIdentifier id) {
            CqlSource source = byKey.get(id.getId() + "|" + id.getVersion());
            if (source == null && id.getVersion() == null) {
                source = byKey.values().stream()
                        .filter(s -> s.name().equals(id.getId()))
                        .findFirst()
                        .orElse(null);
            }
            if (source == null) {
                return null;
            }
            translations.incrementAndGet();
            Buffer buffer = new Buffer();
            byte[] bytes = source.text().getBytes(StandardCharsets.UTF_8);
            buffer.write(bytes, 0, bytes.length);
            return buffer;
        }
    }
}
