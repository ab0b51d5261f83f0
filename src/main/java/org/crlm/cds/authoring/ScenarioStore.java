package org.crlm.cds.authoring;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.crlm.cds.knowledge.KnowledgeProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The server's scenario store: every test case of {@code crlm.knowledge.cql-dir}/tests, read
 * once (the first publish check or the console's first impact preview), the cases the publish
 * gate runs against every candidate. A publish that updates a scenario's expected rules
 * records the new expectation here (the export carries it back to the repository).
 */
@Component
public class ScenarioStore {

    private static final Logger log = LoggerFactory.getLogger(ScenarioStore.class);

    private final Path dir;
    private volatile List<RuleTestCase> cases;
    private final Map<String, Set<String>> updatedExpectations = new ConcurrentHashMap<>();

    public ScenarioStore(KnowledgeProperties knowledge) {
        this.dir = knowledge.cqlDir().resolve("tests");
    }

    /** Every scenario, with the expectations a publish has updated since start-up. */
    public List<RuleTestCase> cases() {
        List<RuleTestCase> loaded = cases;
        if (loaded == null) {
            loaded = load();
        }
        if (updatedExpectations.isEmpty()) {
            return loaded;
        }
        List<RuleTestCase> result = new ArrayList<>();
        for (RuleTestCase c : loaded) {
            Set<String> updated = updatedExpectations.get(c.id());
            result.add(updated == null ? c : c.withExpectedRules(updated));
        }
        return result;
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

    /** After a publish that changed these scenarios' outcomes on purpose. */
    public void updateExpectations(Map<String, Set<String>> expectations) {
        expectations.forEach((id, rules) -> updatedExpectations.put(id, new TreeSet<>(rules)));
        if (!expectations.isEmpty()) {
            log.info("Scenario expectations updated by a publish: {}", expectations);
        }
    }

    public Map<String, Set<String>> updatedExpectations() {
        return Map.copyOf(updatedExpectations);
    }
}
