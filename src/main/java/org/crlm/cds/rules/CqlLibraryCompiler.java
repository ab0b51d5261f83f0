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
    private final AtomicLong restorations = new AtomicLong();

    /** Translations kept across restarts; see {@link #restore}. */
    private final TranslatedElmStore elmStore;
    /**
     * Libraries read back from the store, by the same keys as {@link #bySourceHash}. Kept apart:
     * ELM read back carries no translator types, so it can be evaluated but never be the
     * include of a library being translated.
     */
    private final Cache<String, CompiledLibrary> restoredBySourceHash;

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
        this(cacheSize, budget, TranslatedElmStore.NONE);
    }

    /**
     * @param elmStore where translations are kept across restarts: a compile whose every source
     *                 (and bundled include) is found there, for the same CQL text, translator
     *                 version and options, translates nothing
     */
    public CqlLibraryCompiler(int cacheSize, CqlBudget budget, TranslatedElmStore elmStore) {
        this.budget = budget;
        this.elmStore = elmStore;
        this.restoredBySourceHash = Caffeine.newBuilder()
                .maximumSize(cacheSize)
                .executor(Runnable::run)
                .build();
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

    /** Number of CQL libraries whose stored translation was used instead of translating them. */
    public long restorations() {
        return restorations.get();
    }

    /** The translator and options that made an ELM: part of every stored translation's key. */
    static final String TRANSLATOR = "cql-to-elm "
            + org.cqframework.cql.cql2elm.utils.TranslatorVersionKt.getTranslatorVersion()
            + " " + describe(options());

    private static String describe(CqlCompilerOptions options) {
        return new java.util.TreeSet<>(
                        options.getOptions().stream().map(Enum::name).toList())
                + " signatures=" + options.getSignatureLevel()
                + " compatibility=" + options.getCompatibilityLevel()
                + " cqlOnly=" + options.getEnableCqlOnly()
                + " errorLevel=" + options.getErrorLevel();
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
        Optional<CompilationResult> restored = restore(byKey.values(), cacheKeys);
        if (restored.isPresent()) {
            return restored.get();
        }
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
                    keep(source, cacheKeys.get(source.key()), library, found);
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
            if (!byKey.containsKey(id.getId() + "|" + id.getVersion())
                    && bundledLibraries.putIfAbsent(id, library) == null) {
                keepBundled(id, library);
            }
        });
        // The evaluator needs every library the sources include (FHIRHelpers too), already compiled.
        Map<VersionedIdentifier, CompiledLibrary> all = new LinkedHashMap<>(cache);
        all.keySet().removeIf(id -> byKey.containsKey(id.getId() + "|" + id.getVersion()) && !compiled.containsKey(id));
        return new CompilationResult(List.copyOf(errors), List.copyOf(warnings), Map.copyOf(all));
    }

    /**
     * The stored translations of every source and of every bundled library they include, when
     * all are found for exactly these CQL texts; otherwise empty and the sources are translated
     * (all or nothing: ELM read back has no translator types, so a library that is translated
     * cannot include one that was read back).
     */
    private Optional<CompilationResult> restore(Collection<CqlSource> sources, Map<String, String> cacheKeys) {
        if (elmStore == TranslatedElmStore.NONE || sources.isEmpty()) {
            return Optional.empty();
        }
        Map<VersionedIdentifier, CompiledLibrary> all = new LinkedHashMap<>();
        Set<CqlMessage> warnings = new LinkedHashSet<>();
        Set<String> names = new java.util.HashSet<>();
        List<String> readBack = new ArrayList<>();
        for (CqlSource source : dependencyOrder(sources)) {
            if (source.version() == null
                    || CqlSourceLimits.check(source, budget).isPresent()) {
                return Optional.empty();
            }
            String cacheKey = cacheKeys.get(source.key());
            // Translated or read back by this compiler already: reused as the translation path does.
            CompiledLibrary library = bySourceHash.getIfPresent(cacheKey);
            if (library == null) {
                library = restoredBySourceHash.getIfPresent(cacheKey);
            }
            if (library == null) {
                Optional<TranslatedElmStore.Entry> entry = findStored(storeKey(cacheKey), sha256Hex(source.text()));
                library = entry.flatMap(e -> readElm(e.elmJson(), identifier(source)))
                        .orElse(null);
                if (library == null) {
                    return Optional.empty();
                }
                restoredBySourceHash.put(cacheKey, library);
                readBack.add(source.name());
                warnings.addAll(readWarnings(source.name(), entry.get().warnings()));
            }
            all.put(identifier(source), library);
            names.add(source.name());
        }
        for (CompiledLibrary library : List.copyOf(all.values())) {
            if (library.getLibrary().getIncludes() == null) {
                continue;
            }
            for (org.hl7.elm.r1.IncludeDef include :
                    library.getLibrary().getIncludes().getDef()) {
                if (names.contains(include.getPath())) {
                    continue;
                }
                VersionedIdentifier id =
                        new VersionedIdentifier().withId(include.getPath()).withVersion(include.getVersion());
                if (all.containsKey(id)) {
                    continue;
                }
                CompiledLibrary bundled = bundledLibraries.get(id);
                if (bundled == null) {
                    String key = bundledKey(id);
                    bundled = restoredBySourceHash.getIfPresent(key);
                    if (bundled == null) {
                        bundled = findStored(storeKey(key), key)
                                .flatMap(e -> readElm(e.elmJson(), id))
                                .orElse(null);
                        if (bundled == null) {
                            return Optional.empty();
                        }
                        restoredBySourceHash.put(key, bundled);
                    }
                }
                all.put(id, bundled);
            }
        }
        restorations.addAndGet(readBack.size());
        if (!readBack.isEmpty()) {
            log.info("CQL libraries {} not translated: their stored translation is of the same text", readBack);
        }
        return Optional.of(new CompilationResult(List.of(), List.copyOf(warnings), Map.copyOf(all)));
    }

    /** A stored translation, only if it was made from the CQL text with this SHA-256. */
    private Optional<TranslatedElmStore.Entry> findStored(String key, String cqlSha256) {
        try {
            return elmStore.find(key).filter(e -> e.cqlSha256().equals(cqlSha256));
        } catch (RuntimeException e) {
            log.warn("Stored CQL translations unavailable, translating: {}", e.toString());
            return Optional.empty();
        }
    }

    private static Optional<CompiledLibrary> readElm(String elmJson, VersionedIdentifier expected) {
        try {
            org.hl7.elm.r1.Library elm = new org.cqframework.cql.elm.serializing.ElmJsonLibraryReader().read(elmJson);
            VersionedIdentifier id = elm.getIdentifier();
            if (id == null
                    || !expected.getId().equals(id.getId())
                    || !java.util.Objects.equals(expected.getVersion(), id.getVersion())) {
                return Optional.empty();
            }
            UnionOperandKinds.restore(elm);
            CompiledLibrary library = new CompiledLibrary();
            library.setIdentifier(id);
            library.setLibrary(elm);
            return Optional.of(library);
        } catch (RuntimeException e) {
            log.warn("A stored CQL translation could not be read, translating: {}", e.toString());
            return Optional.empty();
        }
    }

    private void keep(CqlSource source, String cacheKey, CompiledLibrary library, List<CqlCompilerException> found) {
        StringBuilder warnings = new StringBuilder();
        for (CqlCompilerException e : found) {
            CqlMessage m = toMessage(e, source.name());
            if (m.severity() == CqlMessage.Severity.WARNING) {
                warnings.append(m.line() == null ? "" : m.line())
                        .append('\t')
                        .append(m.column() == null ? "" : m.column())
                        .append('\t')
                        .append(m.library())
                        .append('\t')
                        .append(m.message().replace('\n', ' '))
                        .append('\n');
            }
        }
        save(
                storeKey(cacheKey),
                source.name(),
                source.version(),
                sha256Hex(source.text()),
                library,
                warnings.toString());
    }

    private void keepBundled(VersionedIdentifier id, CompiledLibrary library) {
        String key = bundledKey(id);
        save(storeKey(key), id.getId(), id.getVersion(), key, library, "");
    }

    private void save(
            String key, String name, String version, String cqlSha256, CompiledLibrary library, String warnings) {
        if (elmStore == TranslatedElmStore.NONE) {
            return;
        }
        try {
            // Marked only while written: the library is not in service yet (compile is synchronized).
            List<org.hl7.elm.r1.Element> marked = UnionOperandKinds.mark(library.getLibrary());
            String elm;
            try {
                elm = new org.cqframework.cql.elm.serializing.ElmJsonLibraryWriter()
                        .writeAsString(library.getLibrary());
            } finally {
                UnionOperandKinds.unmark(marked);
            }
            elmStore.save(key, name, version, new TranslatedElmStore.Entry(cqlSha256, elm, warnings));
        } catch (RuntimeException e) {
            log.warn("Could not keep the translation of {} {}: {}", name, version, e.toString());
        }
    }

    private static List<CqlMessage> readWarnings(String library, String stored) {
        List<CqlMessage> warnings = new ArrayList<>();
        if (stored == null) {
            return warnings;
        }
        for (String line : stored.split("\n")) {
            String[] f = line.split("\t", 4);
            if (f.length == 4) {
                warnings.add(new CqlMessage(
                        CqlMessage.Severity.WARNING,
                        f[2].isEmpty() ? library : f[2],
                        f[0].isEmpty() ? null : Integer.valueOf(f[0]),
                        f[1].isEmpty() ? null : Integer.valueOf(f[1]),
                        f[3]));
            }
        }
        return warnings;
    }

    /** The store's key: the source's cache key with the translator and its options. */
    static String storeKey(String cacheKey) {
        return sha256Hex(cacheKey + "\u0000" + TRANSLATOR);
    }

    /** Libraries the translator brings (FHIRHelpers): their text is the translator's, keyed by name and version. */
    private static String bundledKey(VersionedIdentifier id) {
        return sha256Hex("bundled\u0000" + id.getId() + "\u0000" + id.getVersion() + "\u0000" + TRANSLATOR);
    }

    static String sha256Hex(String text) {
        return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
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
