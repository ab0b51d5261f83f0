package org.crlm.cds.authoring;

import ca.uhn.fhir.context.FhirContext;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.MalformedResourceFileException;
import org.crlm.cds.knowledge.RepositoryFiles;
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
 * every test case in cql/tests/ and print a pass/fail table. Exit code 0 when everything
 * compiles and passes, 1 otherwise, 2 on bad arguments.
 *
 * <pre>
 *   mvn -q compile exec:java@rule-check
 *   java -Dloader.main=org.crlm.cds.authoring.RuleCheck -jar target/crlm-ablation-cds.jar [--cql DIR] [--resources DIR] [--tests DIR]
 * </pre>
 */
public final class RuleCheck {

    /** The canonical base of the project's own libraries, as the server loads them by default. */
    static final String CANONICAL_BASE = "http://crlm-cds.org/fhir";

    private RuleCheck() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out));
    }

    public static int run(String[] args, PrintStream out) {
        Path cql = Path.of("cql");
        Path resources = Path.of("fhir-resources");
        Path tests = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cql" -> cql = Path.of(args[++i]);
                case "--resources" -> resources = Path.of(args[++i]);
                case "--tests" -> tests = Path.of(args[++i]);
                default -> {
                    out.println("Unknown argument " + args[i]);
                    out.println("Usage: rule-check [--cql DIR] [--resources DIR] [--tests DIR]");
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
        out.printf("Translating %d CQL libraries from %s with %d resources from %s%n", libraries, cql,
                knowledge.all().size() - libraries, resources);
        RuleSetBuilder.Result built = new RuleSetBuilder(new CqlLibraryCompiler()).build(knowledge);
        for (CqlMessage w : built.warnings()) {
            out.println("  " + format(w));
        }
        for (CqlMessage e : built.problems()) {
            out.println("  " + format(e));
        }
        if (!built.ok()) {
            out.printf("FAIL: %d error(s); the rules do not compile, so no test case was run%n", built.problems().size());
            return 1;
        }
        out.println("  OK: every library translates and every PlanDefinition expression exists");

        if (!Files.isDirectory(tests)) {
            out.println("No test cases: " + tests + " does not exist");
            return 1;
        }
        RuleSet rules = built.ruleSet().orElseThrow();
        RuleTestRunner runner = new RuleTestRunner(new DecisionEvaluator(new RuleEngine()), new ServiceCatalog());
        List<RuleTestCase> cases = RuleTestCase.all(tests);
        out.printf("%nRunning %d test cases from %s%n%n", cases.size(), tests);
        out.printf("%-6s %-58s %-13s %-16s %-16s%n", "Result", "Case", "Hook", "Expected", "Got");
        int failed = 0;
        for (RuleTestCase c : cases) {
            String name = c.file().getFileName().toString().replace(".json", "");
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
            out.printf("%-6s %-58s %-13s %-16s %-16s%n", passed ? "pass" : "FAIL", cut(name, 58), c.hook(),
                    rulesText(c.expectedRules()), rulesText(outcome.fired()));
            outcome.failures().forEach((rule, why) -> out.println("         " + rule + " failed: " + why));
            outcome.factProblems().forEach(p -> out.println("         " + p));
        }
        out.printf("%n%d passed, %d failed%n", cases.size() - failed, failed);
        return failed == 0 ? 0 : 1;
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
