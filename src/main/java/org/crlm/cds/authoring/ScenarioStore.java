package org.crlm.cds.authoring;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.crlm.cds.knowledge.KnowledgeProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The server's scenario store: every test case of {@code crlm.knowledge.cql-dir}/tests, the
 * cases the publish gate runs against every candidate. A console run saved as a scenario is
 * written there as a short YAML file. A publish that updates a scenario's expected rules
 * records the new expectation in the database (table {@code cds_scenario_expectation}), so it
 * survives a restart and holds on every node; the export carries it back to the repository.
 */
@Component
public class ScenarioStore {

    private static final Logger log = LoggerFactory.getLogger(ScenarioStore.class);
    /** A saved scenario's id: its file name, so letters, digits, '-' and '_' only. */
    private static final Pattern SCENARIO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,99}");

    private final Path dir;
    private final JdbcTemplate jdbc;
    private volatile List<RuleTestCase> cases;
    private volatile long revision;

    private final TransactionTemplate ownTransaction;

    public ScenarioStore(KnowledgeProperties knowledge, JdbcTemplate jdbc, TransactionTemplate transactions) {
        this.dir = knowledge.cqlDir().resolve("tests");
        this.jdbc = jdbc;
        // Called after the knowledge write has committed: the expectations commit on their own.
        this.ownTransaction = new TransactionTemplate(transactions.getTransactionManager());
        this.ownTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
    }

    /** A stored expectation: the rules a publish made the scenario expect, and what its file expected then. */
    private record Stored(Set<String> rules, Set<String> fileRules) {}

    /** Every scenario, with the expectations publishes have updated (while its file still expects what it did). */
    public List<RuleTestCase> cases() {
        List<RuleTestCase> loaded = cases;
        if (loaded == null) {
            loaded = load();
        }
        Map<String, Stored> stored = stored();
        if (stored.isEmpty()) {
            return loaded;
        }
        List<RuleTestCase> result = new ArrayList<>();
        for (RuleTestCase c : loaded) {
            result.add(
                    applies(stored.get(c.id()), c)
                            ? c.withExpectedRules(stored.get(c.id()).rules())
                            : c);
        }
        return result;
    }

    private static boolean applies(Stored stored, RuleTestCase scenario) {
        return stored != null && stored.fileRules().equals(new TreeSet<>(scenario.expectedRules()));
    }

    private synchronized List<RuleTestCase> load() {
        if (cases == null) {
            if (!Files.isDirectory(dir)) {
                log.warn(
                        "No scenario store: {} does not exist; the publish gate runs no scenarios",
                        dir.toAbsolutePath());
                cases = List.of();
            } else {
                cases = RuleTestCase.all(dir);
                log.info("Scenario store: {} scenarios from {}", cases.size(), dir);
            }
        }
        return cases;
    }

    /** After a publish that changed these scenarios' outcomes on purpose: stored in the database. */
    public void updateExpectations(Map<String, Set<String>> expectations) {
        if (expectations.isEmpty()) {
            return;
        }
        Map<String, RuleTestCase> files = new LinkedHashMap<>();
        load().forEach(c -> files.put(c.id(), c));
        ownTransaction.executeWithoutResult(status -> expectations.forEach((id, rules) -> {
            RuleTestCase file = files.get(id);
            if (file == null) {
                return; // the gate refuses expectations for unknown scenarios before this point
            }
            String expected = String.join(",", new TreeSet<>(rules));
            String fileRules = String.join(",", new TreeSet<>(file.expectedRules()));
            Timestamp now = Timestamp.from(Instant.now());
            int updated = jdbc.update(
                    "update cds_scenario_expectation set expected_rules = ?, file_rules = ?, updated_at = ?"
                            + " where scenario_id = ?",
                    expected,
                    fileRules,
                    now,
                    id);
            if (updated == 0) {
                jdbc.update(
                        "insert into cds_scenario_expectation (scenario_id, expected_rules, file_rules, updated_at)"
                                + " values (?,?,?,?)",
                        id,
                        expected,
                        fileRules,
                        now);
            }
        }));
        log.info("Scenario expectations updated by a publish: {}", expectations);
    }

    /** Scenario id → the rules a publish made it expect, for the scenarios whose file still differs. */
    public Map<String, Set<String>> updatedExpectations() {
        Map<String, Set<String>> updated = new LinkedHashMap<>();
        Map<String, Stored> stored = stored();
        for (RuleTestCase c : load()) {
            Stored s = stored.get(c.id());
            if (applies(s, c) && !s.rules().equals(s.fileRules())) {
                updated.put(c.id(), s.rules());
            }
        }
        return updated;
    }

    private Map<String, Stored> stored() {
        Map<String, Stored> stored = new LinkedHashMap<>();
        jdbc.query("select scenario_id, expected_rules, file_rules from cds_scenario_expectation", rs -> {
            stored.put(rs.getString(1), new Stored(rules(rs.getString(2)), rules(rs.getString(3))));
        });
        return stored;
    }

    private static Set<String> rules(String joined) {
        Set<String> rules = new TreeSet<>();
        Arrays.stream(joined.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .forEach(rules::add);
        return rules;
    }

    /** Changes when a scenario joins the store (the gate's "before" must then be computed again). */
    public long revision() {
        return revision;
    }

    /** Takes a scenario out of the store (its file is deleted). */
    public synchronized void remove(String id) {
        List<RuleTestCase> all = new ArrayList<>(load());
        for (RuleTestCase c : List.copyOf(all)) {
            if (c.id().equals(id)) {
                try {
                    Files.deleteIfExists(c.file());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                all.remove(c);
                log.info("Scenario {} removed from the scenario store", id);
            }
        }
        cases = List.copyOf(all);
        revision++;
    }

    /** Whether a scenario of this id is in the store. */
    public boolean contains(String id) {
        return load().stream().anyMatch(c -> c.id().equals(id));
    }

    /**
     * Adds a scenario in the short YAML form as {@code <id>.yaml}: the file is read back as the
     * gate will read it (a malformed one is refused, nothing is written), then joins the store.
     */
    public synchronized RuleTestCase save(
            String id, String yaml, java.util.function.Function<RuleTestCase, java.util.Optional<String>> check) {
        if (id == null || !SCENARIO_ID.matcher(id).matches()) {
            throw new IllegalArgumentException(
                    "The scenario id becomes its file name: letters, digits, '-' and '_' (at most 100)");
        }
        if (contains(id)) {
            throw new IllegalArgumentException("A scenario " + id + " is already in the scenario store");
        }
        try {
            Files.createDirectories(dir);
            Path target = dir.resolve(id + ".yaml");
            Path temp = Files.createTempFile(dir, "." + id, ".yaml.tmp");
            Files.writeString(temp, yaml, StandardCharsets.UTF_8);
            RuleTestCase saved;
            try {
                // A file the gate could not read, or one that does not pass, is refused.
                java.util.Optional<String> problem = check.apply(RuleTestCase.load(temp));
                if (problem.isPresent()) {
                    throw new IllegalStateException("Scenario " + id + " not saved: " + problem.get());
                }
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                saved = RuleTestCase.load(target);
            } finally {
                Files.deleteIfExists(temp);
            }
            List<RuleTestCase> all = new ArrayList<>(load());
            all.add(saved);
            all.sort(java.util.Comparator.comparing(RuleTestCase::id));
            cases = List.copyOf(all);
            revision++;
            log.info("Scenario {} saved to the scenario store ({})", id, target);
            return saved;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
