package org.crlm.cds.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The package rules that keep the code easy to carry: the rules engine and the knowledge model
 * know nothing of HTTP, the HTTP layer knows nothing of CQL syntax, and nothing depends on the
 * authoring tools (they can be left out of a deployment without breaking anything).
 */
@AnalyzeClasses(packages = "org.crlm.cds", importOptions = ImportOption.DoNotIncludeTests.class)
class PackageRulesTest {

    private static final String[] HTTP = {
        "org.springframework.web..", "org.springframework.http..", "jakarta.servlet..", "ca.uhn.fhir.rest.server..",
        "org.crlm.cds.cdshooks..", "org.crlm.cds.security..", "org.crlm.cds.feedback..", "org.crlm.cds.ops.."
    };

    @ArchTest
    static final ArchRule rulesAndKnowledgeImportNoHttpPackage = noClasses()
            .that()
            .resideInAnyPackage("org.crlm.cds.rules..", "org.crlm.cds.knowledge..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(HTTP)
            .because("the evaluator runs the same without a server (rule-check CLI, scenario tests)");

    @ArchTest
    static final ArchRule rulesKnowNothingOfTheKnowledgeModel = noClasses()
            .that()
            .resideInAPackage("org.crlm.cds.rules..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("org.crlm.cds.knowledge..")
            .because("rules/ compiles and evaluates CQL; knowledge/ builds services and decisions on top of it");

    @ArchTest
    static final ArchRule nothingImportsAuthoring = noClasses()
            .that()
            .resideOutsideOfPackage("org.crlm.cds.authoring..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("org.crlm.cds.authoring..")
            .because("the authoring tools sit on top; production paths never depend on them");

    @ArchTest
    static final ArchRule hooksKnowNothingOfCqlSyntax = noClasses()
            .that()
            .resideInAPackage("org.crlm.cds.cdshooks..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("org.cqframework..", "org.hl7.elm..", "org.opencds.cqf.cql..")
            .because("the HTTP contract reads decisions, not CQL");
}
