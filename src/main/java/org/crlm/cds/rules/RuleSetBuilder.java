package org.crlm.cds.rules;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.cqframework.cql.cql2elm.LibraryManager;
import org.cqframework.cql.cql2elm.ModelManager;
import org.cqframework.cql.cql2elm.model.CompiledLibrary;
import org.hl7.elm.r1.ExpressionDef;
import org.hl7.elm.r1.FunctionDef;
import org.hl7.elm.r1.VersionedIdentifier;
import org.hl7.fhir.r4.model.ActivityDefinition;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.Enumerations.PublicationStatus;
import org.hl7.fhir.r4.model.Expression;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.PlanDefinition.PlanDefinitionActionComponent;

/**
 * Compiles knowledge resources into a {@link RuleSet}, or says exactly what is wrong:
 * CQL errors with library, line and column; PlanDefinitions naming libraries or
 * expressions that do not exist.
 */
public final class RuleSetBuilder {

    /** Expression languages an action may use: a named CQL definition in a library. */
    public static final Set<String> CQL_IDENTIFIER = Set.of("text/cql-identifier", "text/cql.identifier", "text/cql");

    private final CqlLibraryCompiler compiler;
    private final AtomicLong generations = new AtomicLong();

    public RuleSetBuilder(CqlLibraryCompiler compiler) {
        this.compiler = compiler;
    }

    public CqlLibraryCompiler compiler() {
        return compiler;
    }

    /** The outcome of a build: a rule set when there are no problems. */
    public record Result(Optional<RuleSet> ruleSet, List<CqlMessage> problems, List<CqlMessage> warnings) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    public Result build(KnowledgeResources knowledge) {
        List<CqlMessage> problems = new ArrayList<>();
        Map<String, Library> libraryByKey = new HashMap<>();
        List<CqlSource> sources = new ArrayList<>();
        for (Library library : knowledge.libraries()) {
            if (library.getStatus() == PublicationStatus.RETIRED) {
                continue;
            }
            Optional<String> cql = cqlText(library);
            if (cql.isEmpty()) {
                continue;
            }
            String ref = "Library/" + library.getIdElement().getIdPart();
            Optional<CqlSource> source = CqlSource.of(cql.get(), ref);
            if (source.isEmpty()) {
                problems.add(problem(ref, "The CQL has no 'library Name version' header"));
                continue;
            }
            CqlSource s = source.get();
            if (!s.name().equals(library.getName())
                    || (s.version() != null && !s.version().equals(library.getVersion()))) {
                problems.add(problem(
                        ref,
                        "The CQL declares library " + s.name() + " version '" + s.version()
                                + "' but the Library resource has name " + library.getName() + " and version "
                                + library.getVersion()));
                continue;
            }
            libraryByKey.put(s.key(), library);
            sources.add(s);
        }

        CompilationResult compiled = compiler.compile(sources);
        problems.addAll(compiled.errors());

        Map<String, RuleLibrary> rules = new HashMap<>();
        Set<String> failedUrls = new java.util.HashSet<>();
        for (CqlSource s : sources) {
            VersionedIdentifier id = CqlLibraryCompiler.identifier(s);
            CompiledLibrary c = compiled.libraries().get(id);
            if (c == null) {
                Library failed = libraryByKey.get(s.key());
                failedUrls.add(failed.hasUrl() ? failed.getUrl() : failed.getName());
                continue;
            }
            Library resource = libraryByKey.get(s.key());
            Set<String> names = new LinkedHashSet<>();
            if (c.getLibrary().getStatements() != null) {
                for (ExpressionDef def : c.getLibrary().getStatements().getDef()) {
                    if (!(def instanceof FunctionDef)) {
                        names.add(def.getName());
                    }
                }
            }
            String url = resource.hasUrl() ? resource.getUrl() : resource.getName();
            rules.put(
                    url + "|" + s.version(),
                    new RuleLibrary(
                            url,
                            s.name(),
                            s.version(),
                            resource.getIdElement().getIdPart(),
                            id,
                            Set.copyOf(names),
                            s.text(),
                            c.getLibrary()));
        }

        Map<String, PlanDefinition> plans = new HashMap<>();
        knowledge
                .planDefinitions()
                .forEach(p -> plans.put(
                        p.getUrl() != null
                                ? p.getUrl()
                                : "PlanDefinition/" + p.getIdElement().getIdPart(),
                        p));
        Map<String, ActivityDefinition> activities = new HashMap<>();
        knowledge.activityDefinitions().forEach(a -> activities.put(a.getUrl(), a));
        Map<String, CodeSystem> codeSystems = new HashMap<>();
        knowledge.codeSystems().forEach(c -> codeSystems.put(c.getUrl(), c));

        LibraryManager evaluationManager = new LibraryManager(
                new ModelManager(), CqlLibraryCompiler.options(), new ConcurrentHashMap<>(compiled.libraries()));
        ValueSetTerminology terminology = new ValueSetTerminology(knowledge.valueSets(), knowledge.conceptMaps());
        RuleSet candidate = new RuleSet(
                generations.incrementAndGet(),
                evaluationManager,
                terminology,
                rules,
                plans,
                activities,
                codeSystems,
                compiled.warnings());

        checkDependencies(rules.values(), compiled, terminology, knowledge, problems);
        // Regular expressions are checked where they are compiled: a catastrophic one is never published.
        Map<String, org.hl7.elm.r1.Library> elmByName = new HashMap<>();
        compiled.libraries().forEach((id, library) -> elmByName.put(id.getId(), library.getLibrary()));
        for (RuleLibrary library : rules.values()) {
            problems.addAll(RegexLimits.check(
                    library.elm(), elmByName, compiler.budget().maxRegexLength()));
        }
        for (PlanDefinition plan : knowledge.planDefinitions()) {
            // A plan on a library that did not compile adds nothing to that library's own errors.
            String planLibrary = plan.hasLibrary()
                    ? RuleSet.stripVersion(plan.getLibrary().get(0).getValue())
                    : null;
            if (planLibrary == null || !failedUrls.contains(planLibrary)) {
                checkPlan(plan, candidate, problems);
            }
        }
        if (!problems.isEmpty()) {
            return new Result(Optional.empty(), List.copyOf(problems), compiled.warnings());
        }
        return new Result(Optional.of(candidate), List.of(), compiled.warnings());
    }

    /**
     * What a library needs at evaluation time must be in the candidate itself: every included
     * library in the exact version named (an unchanged library is not translated again, so
     * the translator would not notice an include whose version is gone), every value set the
     * CQL names, with at least one code, and every value set a ValueSet includes.
     */
    private static void checkDependencies(
            Collection<RuleLibrary> libraries,
            CompilationResult compiled,
            ValueSetTerminology terminology,
            KnowledgeResources knowledge,
            List<CqlMessage> problems) {
        Set<String> available = new java.util.HashSet<>();
        compiled.libraries().keySet().forEach(id -> available.add(id.getId() + "|" + id.getVersion()));
        for (RuleLibrary library : libraries) {
            org.hl7.elm.r1.Library elm = library.elm();
            String ref = "Library/" + library.resourceId();
            if (elm.getIncludes() != null) {
                for (org.hl7.elm.r1.IncludeDef include : elm.getIncludes().getDef()) {
                    if (include.getVersion() != null
                            && !available.contains(include.getPath() + "|" + include.getVersion())) {
                        String held = libraries.stream()
                                .filter(l -> l.name().equals(include.getPath()))
                                .map(l -> l.name() + " " + l.version())
                                .findFirst()
                                .orElse("no version of it");
                        problems.add(problem(
                                ref,
                                library.name() + " " + library.version() + " includes " + include.getPath()
                                        + " version '" + include.getVersion()
                                        + "', which would no longer be published (there is "
                                        + held + "); publish " + library.name()
                                        + " with the new include version in the same transaction"));
                    }
                }
            }
            if (elm.getValueSets() != null) {
                for (org.hl7.elm.r1.ValueSetDef valueSet : elm.getValueSets().getDef()) {
                    String url = valueSet.getId();
                    if (!terminology.valueSetUrls().contains(url)) {
                        problems.add(problem(
                                ref,
                                library.name() + " names value set \"" + valueSet.getName() + "\" " + url
                                        + ", which no ValueSet defines (check the ValueSet url)"));
                    } else if (!terminology
                            .expand(new org.opencds.cqf.cql.engine.terminology.ValueSetInfo().withId(url))
                            .iterator()
                            .hasNext()) {
                        problems.add(problem(
                                ref,
                                library.name() + " names value set \"" + valueSet.getName() + "\" " + url
                                        + ", which has no codes"));
                    }
                }
            }
        }
        for (org.hl7.fhir.r4.model.ValueSet valueSet : knowledge.valueSets()) {
            for (org.hl7.fhir.r4.model.ValueSet.ConceptSetComponent include :
                    valueSet.getCompose().getInclude()) {
                for (org.hl7.fhir.r4.model.CanonicalType nested : include.getValueSet()) {
                    if (!terminology.valueSetUrls().contains(RuleSet.stripVersion(nested.getValue()))) {
                        problems.add(problem(
                                "ValueSet/" + valueSet.getIdElement().getIdPart(),
                                "ValueSet " + valueSet.getUrl() + " includes value set " + nested.getValue()
                                        + ", which no ValueSet defines"));
                    }
                }
            }
        }
    }

    public static Optional<String> cqlText(Library library) {
        for (Attachment content : library.getContent()) {
            if ("text/cql".equals(content.getContentType()) && content.hasData()) {
                return Optional.of(new String(content.getData(), StandardCharsets.UTF_8));
            }
        }
        return Optional.empty();
    }

    private static void checkPlan(PlanDefinition plan, RuleSet rules, List<CqlMessage> problems) {
        String ref = "PlanDefinition/" + plan.getIdElement().getIdPart();
        String defaultLibrary = plan.hasLibrary() ? plan.getLibrary().get(0).getValue() : null;
        if (defaultLibrary != null && rules.library(defaultLibrary).isEmpty()) {
            problems.add(problem(ref, "PlanDefinition.library " + defaultLibrary + " is not a compiled CQL Library"));
            return;
        }
        for (PlanDefinitionActionComponent action : plan.getAction()) {
            checkAction(action, ref, defaultLibrary, rules, problems);
        }
    }

    private static void checkAction(
            PlanDefinitionActionComponent action,
            String ref,
            String defaultLibrary,
            RuleSet rules,
            List<CqlMessage> problems) {
        String where = ref + " action " + (action.hasId() ? action.getId() : action.getTitle());
        for (PlanDefinition.PlanDefinitionActionConditionComponent condition : action.getCondition()) {
            checkExpression(condition.getExpression(), ref, where + " condition", defaultLibrary, rules, problems);
        }
        for (PlanDefinition.PlanDefinitionActionDynamicValueComponent value : action.getDynamicValue()) {
            checkExpression(
                    value.getExpression(),
                    ref,
                    where + " dynamicValue " + value.getPath(),
                    defaultLibrary,
                    rules,
                    problems);
        }
        if (action.hasDefinitionCanonicalType()) {
            String target = action.getDefinitionCanonicalType().getValue();
            if (rules.planDefinition(target).isEmpty()
                    && rules.activityDefinition(target).isEmpty()) {
                problems.add(problem(
                        ref, where + " definition " + target + " is not a known PlanDefinition or ActivityDefinition"));
            }
        }
        for (PlanDefinitionActionComponent child : action.getAction()) {
            checkAction(child, ref, defaultLibrary, rules, problems);
        }
    }

    private static void checkExpression(
            Expression expression,
            String ref,
            String where,
            String defaultLibrary,
            RuleSet rules,
            List<CqlMessage> problems) {
        if (expression == null || !expression.hasExpression()) {
            problems.add(problem(ref, where + " has no expression"));
            return;
        }
        if (!CQL_IDENTIFIER.contains(expression.getLanguage())) {
            problems.add(problem(
                    ref,
                    where + " uses language " + expression.getLanguage()
                            + "; only text/cql-identifier (a named definition in a CQL library) is supported"));
            return;
        }
        String libraryUrl = expression.hasReference() ? expression.getReference() : defaultLibrary;
        Optional<RuleLibrary> library = rules.library(libraryUrl);
        if (library.isEmpty()) {
            problems.add(
                    problem(ref, where + " names library " + libraryUrl + ", which is not a compiled CQL Library"));
        } else if (!library.get().expressionNames().contains(expression.getExpression())) {
            problems.add(problem(
                    ref,
                    where + " names expression \"" + expression.getExpression() + "\", which library "
                            + library.get().name() + " version " + library.get().version() + " does not define"));
        }
    }

    private static CqlMessage problem(String resource, String message) {
        return new CqlMessage(CqlMessage.Severity.ERROR, resource, null, null, message);
    }
}
