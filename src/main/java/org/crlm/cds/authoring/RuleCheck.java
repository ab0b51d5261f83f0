package org.crlm.cds.authoring;

import ca.uhn.fhir.context.FhirContext;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.MalformedResourceFileException;
import org.crlm.cds.knowledge.RepositoryFiles;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.CqlLibraryCompiler;
import org.crlm.cds.rules.CqlMessage;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.rules.RuleSetBuilder;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The informaticians' check, without a server: translate every library in cql/ with the
 * resources in fhir-resources/ (errors and warnings with library, line, column), then run
 * every test case in cql/tests/ and print a pass/fail table and the scenarios each rule fires
 * in. With {@code --impact-from DIR} (a baseline checkout holding cql/ and fhir-resources/,
 * e.g. from {@code git worktree add}), it also lists the scenarios and demo patients whose
 * cards change, rule ids before → after. Exit code 0 when everything compiles and passes, 1
 * when a library does not translate, a file cannot be read or a scenario fails, 2 on bad
 * arguments.
 *
 * <pre>
 *   mvn -q compile exec:java@rule-check
 *   java -Dloader.main=org.crlm.cds.authoring.RuleCheck -jar target/crlm-ablation-cds.jar [--cql DIR] [--resources DIR] [--tests DIR]
 * </pre>
 */
public final class RuleCheck {

    static final String USAGE =
            "Usage: rule-check [--cql DIR] [--resources DIR] [--tests DIR] [--impact-from BASELINE_DIR]";

    /** The canonical base of the project's own libraries, as the server loads them by default. */
    static final String CANONICAL_BASE = "http://crlm-cds.org/fhir";

    private RuleCheck() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out));
    }

    public static int run(String[] args, PrintStream out) {
        Path cql = Path.of("cql");
        Path resources = Path.of("fhir-resources");
        Path tests = null;
        Path impactFrom = null;
        for (int i = 0; i < args.length; i++) {
            if (i + 1 >= args.length && args[i].startsWith("--")) {
                out.println("Missing value for " + args[i]);
                out.println(USAGE);
                return 2;
            }
            switch (args[i]) {
                case "--cql" -> cql = Path.of(args[++i]);
                case "--resources" -> resources = Path.of(args[++i]);
                case "--tests" -> tests = Path.of(args[++i]);
                case "--impact-from" -> impactFrom = Path.of(args[++i]);
                default -> {
                    out.println("Unknown argument " + args[i]);
                    out.println(USAGE);
                    return 2;
                }
            }
        }
        if (tests == null) {
            tests = cql.resolve("tests");
        }

        KnowledgeResources knowledge;
        try {
            knowledge = new RepositoryFiles(FhirContext.forR4Cached()).knowledge(cql, resources, CANONICAL_BASE);
        } catch (MalformedResourceFileException e) {
            out.println("FAIL " + e.getMessage());
            return 1;
        }
        int libraries = knowledge.libraries().size();
        out.printf(
                "Translating %d CQL libraries from %s with %d resources from %s%n",
                libraries, cql, knowledge.all().size() - libraries, resources);
        RuleSetBuilder.Result built = new RuleSetBuilder(new CqlLibraryCompiler()).build(knowledge);
        for (CqlMessage w : built.warnings()) {
            out.println("  " + format(w));
        }
        for (CqlMessage e : built.problems()) {
            out.println("  " + format(e));
        }
        if (!built.ok()) {
            out.printf(
                    "FAIL: %d error(s); the rules do not compile, so no test case was run%n",
                    built.problems().size());
            return 1;
        }
        out.println("  OK: every library translates and every PlanDefinition expression exists");

        if (!Files.isDirectory(tests)) {
            out.println("No test cases: " + tests + " does not exist");
            return 1;
        }
        RuleSet rules = built.ruleSet().orElseThrow();
        RuleTestRunner runner = new RuleTestRunner(new DecisionEvaluator(new RuleEngine()), new ServiceCatalog());
        List<RuleTestCase> cases;
        try {
            cases = RuleTestCase.all(tests);
        } catch (RuleTestCase.MalformedScenarioException e) {
            out.println("FAIL malformed scenario " + e.getMessage());
            return 1;
        }
        out.printf("%nRunning %d test cases from %s%n%n", cases.size(), tests);
        out.printf("%-6s %-58s %-13s %-16s %-16s%n", "Result", "Case", "Hook", "Expected", "Got");
        int failed = 0;
        for (RuleTestCase c : cases) {
            String name = c.id();
            RuleTestRunner.Outcome outcome;
            try {
                outcome = runner.run(rules, c);
            } catch (RuntimeException e) {
                failed++;
                out.printf("%-6s %-58s %-13s %s%n", "FAIL", cut(name, 58), c.hook(), e.getMessage());
                continue;
            }
            boolean passed = outcome.passed();
            if (!passed) {
                failed++;
            }
            out.printf(
                    "%-6s %-58s %-13s %-16s %-16s%n",
                    passed ? "pass" : "FAIL",
                    cut(name, 58),
                    c.hook(),
                    rulesText(c.expectedRules()),
                    rulesText(outcome.fired()));
            outcome.failures().forEach((rule, why) -> out.println("         " + rule + " failed: " + why));
            outcome.factProblems().forEach(p -> out.println("         " + p));
        }
        out.printf("%n%d passed, %d failed%n", cases.size() - failed, failed);
        printCoverage(rules, cases, runner, out);
        if (impactFrom != null) {
            int impact = printImpact(impactFrom, rules, cases, runner, resources, out);
            if (impact < 0) {
                return 1;
            }
        }
        return failed == 0 ? 0 : 1;
    }

    /** Per rule: in how many scenarios it fires; a rule no scenario fires is named. */
    private static void printCoverage(RuleSet rules, List<RuleTestCase> cases, RuleTestRunner runner, PrintStream out) {
        java.util.Map<String, Integer> fired = new java.util.TreeMap<>();
        for (ServiceDefinition service : new ServiceCatalog().services(rules)) {
            service.rules().forEach(r -> fired.putIfAbsent(r.ruleId(), 0));
        }
        for (RuleTestCase c : cases) {
            try {
                runner.run(rules, c).fired().forEach(id -> fired.merge(id, 1, Integer::sum));
            } catch (RuntimeException e) {
                // Already reported as FAIL above.
            }
        }
        out.printf("%nRule coverage (scenarios in which each rule fires):%n");
        fired.forEach(
                (rule, n) -> out.printf("  %-8s %4d%s%n", rule, n, n == 0 ? "   <- no scenario fires this rule" : ""));
    }

    /**
     * Compares with a baseline checkout (its cql/ and fhir-resources/): the scenarios and demo
     * patients whose cards change, rule ids before → after. -1 when the baseline does not compile.
     */
    private static int printImpact(
            Path baselineDir,
            RuleSet rules,
            List<RuleTestCase> cases,
            RuleTestRunner runner,
            Path resources,
            PrintStream out) {
        RuleSet baseline;
        try {
            KnowledgeResources before = new RepositoryFiles(FhirContext.forR4Cached())
                    .knowledge(baselineDir.resolve("cql"), baselineDir.resolve("fhir-resources"), CANONICAL_BASE);
            RuleSetBuilder.Result built = new RuleSetBuilder(new CqlLibraryCompiler()).build(before);
            if (!built.ok()) {
                out.println("FAIL: the baseline " + baselineDir + " does not compile: "
                        + built.problems().get(0));
                return -1;
            }
            baseline = built.ruleSet().orElseThrow();
        } catch (MalformedResourceFileException e) {
            out.println("FAIL: the baseline " + baselineDir + ": " + e.getMessage());
            return -1;
        }
        List<String> changes = new ArrayList<>();
        for (RuleTestCase c : cases) {
            try {
                java.util.Set<String> was =
                        new java.util.TreeSet<>(runner.run(baseline, c).fired());
                java.util.Set<String> now =
                        new java.util.TreeSet<>(runner.run(rules, c).fired());
                if (!was.equals(now)) {
                    changes.add("scenario " + c.id() + ": " + rulesText(was) + " -> " + rulesText(now) + " (expects "
                            + rulesText(c.expectedRules()) + ")");
                }
            } catch (RuntimeException e) {
                changes.add("scenario " + c.id() + ": cannot run (" + e.getMessage() + ")");
            }
        }
        DecisionEvaluator evaluator = new DecisionEvaluator(new RuleEngine());
        ServiceCatalog catalog = new ServiceCatalog();
        java.util.Map<Path, List<IBaseResource>> demo = new java.util.TreeMap<>();
        new RepositoryFiles(FhirContext.forR4Cached())
                .readResources(resources, true).stream()
                        .filter(f -> resources.relativize(f.file()).startsWith("demo"))
                        .forEach(f -> demo.computeIfAbsent(f.file(), k -> new ArrayList<>())
                                .add(f.resource()));
        for (List<IBaseResource> record : demo.values()) {
            String patientId = record.stream()
                    .filter(r -> r.fhirType().equals("Patient"))
                    .map(r -> r.getIdElement().getIdPart())
                    .findFirst()
                    .orElse(null);
            if (patientId == null) {
                continue;
            }
            for (ServiceDefinition service : catalog.services(rules)) {
                if (!"patient-view".equals(service.hook())) {
                    continue;
                }
                java.util.Set<String> now = fired(evaluator, rules, service, patientId, record);
                java.util.Set<String> was = catalog.service(baseline, service.id())
                        .map(s -> fired(evaluator, baseline, s, patientId, record))
                        .orElse(java.util.Set.of());
                if (!was.equals(now)) {
                    changes.add("patient " + patientId + " (" + service.id() + "): " + rulesText(was) + " -> "
                            + rulesText(now));
                }
            }
        }
        out.printf("%nImpact against %s: %d change(s) of cards%n", baselineDir, changes.size());
        changes.forEach(c -> out.println("  " + c));
        return changes.size();
    }

    private static java.util.Set<String> fired(
            DecisionEvaluator evaluator,
            RuleSet rules,
            ServiceDefinition service,
            String patientId,
            List<IBaseResource> record) {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        // The demo patients are evaluated on the day their dates are written as of (the server moves
        // their dates to today on loading instead).
        var asOf = java.time.LocalDate.parse(org.crlm.cds.knowledge.KnowledgeProperties.DEMO_DATA_WRITTEN_AS_OF)
                .atTime(12, 0)
                .atZone(java.time.ZoneOffset.UTC);
        var decision = evaluator.decide(rules, service, new org.crlm.cds.rules.PatientData(patientId, record, asOf));
        decision.fired().forEach(r -> ids.add(r.rule().ruleId()));
        decision.failed().forEach(r -> ids.add(r.rule().ruleId() + " (failed)"));
        return ids;
    }

    private static String format(CqlMessage m) {
        String where = m.line() == null ? m.library() : m.library() + " line " + m.line() + ", column " + m.column();
        return m.severity() + " " + where + ": " + m.message();
    }

    private static String rulesText(java.util.Collection<String> rules) {
        return rules.isEmpty() ? "(none)" : String.join(",", new java.util.TreeSet<>(rules));
    }

    private static String cut(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
