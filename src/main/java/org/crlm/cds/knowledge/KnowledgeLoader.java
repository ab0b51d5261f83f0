package org.crlm.cds.knowledge;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirResourceDao;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.crlm.cds.rules.CqlMessage;
import org.crlm.cds.rules.KnowledgeResources;
import org.crlm.cds.rules.RuleLibrary;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSet;
import org.crlm.cds.rules.RuleSetBuilder;
import org.crlm.cds.rules.Versions;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.MetadataResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Loads the repository into the FHIR store at start-up, idempotently (PUT with the files'
 * ids, so a restart creates nothing new), then puts the stored rules in service. A
 * knowledge resource of any type that the database holds in a higher version, or that was
 * published over FHIR in the same version with other content, is kept and logged. Anything wrong stops start-up with the file or library named.
 */
@Component
public class KnowledgeLoader {

    private static final Logger log = LoggerFactory.getLogger(KnowledgeLoader.class);

    private final KnowledgeProperties properties;
    private final RepositoryFiles files;
    private final DaoRegistry daoRegistry;
    private final KnowledgeRepository repository;
    private final RuleLibraryCache ruleCache;
    private final StartupLock startupLock;

    public KnowledgeLoader(
            KnowledgeProperties properties,
            RepositoryFiles files,
            DaoRegistry daoRegistry,
            KnowledgeRepository repository,
            RuleLibraryCache ruleCache,
            StartupLock startupLock) {
        this.properties = properties;
        this.files = files;
        this.daoRegistry = daoRegistry;
        this.repository = repository;
        this.ruleCache = ruleCache;
        this.startupLock = startupLock;
    }

    /** Loads everything and puts the rules in service; throws (stopping start-up) on any problem. */
    public RuleSet load() {
        long started = System.nanoTime();
        List<RepositoryFiles.FileResource> fromFiles = new ArrayList<>();
        fromFiles.addAll(files.readCqlLibraries(properties.cqlDir(), properties.canonicalBase()));
        fromFiles.addAll(files.readResources(properties.resourcesDir(), properties.loadDemoData()));

        List<IBaseResource> knowledge = fromFiles.stream()
                .map(RepositoryFiles.FileResource::resource)
                .filter(r -> KnowledgeResources.TYPES.contains(r.fhirType()))
                .toList();
        RuleSet repositoryRules =
                compileOrFail(KnowledgeResources.of(knowledge), "the repository's cql/ and fhir-resources/");
        attachElm(knowledge, repositoryRules);

        try {
            int written = writeKnowledge(knowledge);
            int demo = properties.loadDemoData() ? writeDemoData(fromFiles) : 0;
            RuleSetBuilder.Result inService = ruleCache.rebuild(repository.load());
            if (!inService.ok()) {
                throw new IllegalStateException("The stored rules do not compile: " + describe(inService.problems()));
            }
            log.info(
                    "Loaded {} knowledge resources ({} sent; the server stores only what changed) and {} demo resources in {} ms",
                    knowledge.size(),
                    written,
                    demo,
                    (System.nanoTime() - started) / 1_000_000);
            return inService.ruleSet().orElseThrow();
        } finally {
            startupLock.release();
        }
    }

    private RuleSet compileOrFail(KnowledgeResources knowledge, String what) {
        RuleSetBuilder.Result result = ruleCache.validate(knowledge);
        result.warnings().forEach(w -> log.warn("CQL warning: {}", w));
        if (!result.ok()) {
            throw new IllegalStateException(
                    "Cannot start: " + what + " do not compile: " + describe(result.problems()));
        }
        return result.ruleSet().orElseThrow();
    }

    private static String describe(List<CqlMessage> problems) {
        return problems.stream().map(CqlMessage::toString).collect(Collectors.joining("; "));
    }

    /** Stores the compiled ELM beside the CQL, for tools that read ELM. */
    private static void attachElm(List<IBaseResource> knowledge, RuleSet rules) {
        for (IBaseResource r : knowledge) {
            if (r instanceof Library library) {
                rules.library(library.getUrl() + "|" + library.getVersion())
                        .map(RuleLibrary::elmJson)
                        .ifPresent(elm -> {
                            library.getContent().removeIf(c -> "application/elm+json".equals(c.getContentType()));
                            library.addContent()
                                    .setContentType("application/elm+json")
                                    .setData(elm.getBytes(StandardCharsets.UTF_8));
                        });
            }
        }
    }

    private int writeKnowledge(List<IBaseResource> knowledge) {
        Bundle transaction = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        for (IBaseResource resource : knowledge) {
            if (newerInDatabase(resource)) {
                continue;
            }
            addPut(transaction, resource);
        }
        if (!transaction.getEntry().isEmpty()) {
            daoRegistry.getSystemDao().transaction(TrustedLoad.request(), transaction);
        }
        return transaction.getEntry().size();
    }

    private int writeDemoData(List<RepositoryFiles.FileResource> fromFiles) {
        Map<java.nio.file.Path, Bundle> byFile = new LinkedHashMap<>();
        int months = DateShift.months(properties.demoDataWrittenAsOf(), java.time.LocalDate.now());
        for (RepositoryFiles.FileResource f : fromFiles) {
            if (!KnowledgeResources.TYPES.contains(f.resource().fhirType())) {
                addPut(
                        byFile.computeIfAbsent(f.file(), p -> new Bundle().setType(Bundle.BundleType.TRANSACTION)),
                        DateShift.shift(f.resource(), months));
            }
        }
        int count = 0;
        for (Map.Entry<java.nio.file.Path, Bundle> e : byFile.entrySet()) {
            try {
                daoRegistry.getSystemDao().transaction(TrustedLoad.request(), e.getValue());
            } catch (RuntimeException ex) {
                throw new MalformedResourceFileException(
                        e.getKey(), "the FHIR server refused it: " + ex.getMessage(), ex);
            }
            count += e.getValue().getEntry().size();
        }
        return count;
    }

    private static void addPut(Bundle transaction, IBaseResource resource) {
        String ref = resource.fhirType() + "/" + resource.getIdElement().getIdPart();
        transaction
                .addEntry()
                .setResource((org.hl7.fhir.r4.model.Resource) resource)
                .setFullUrl(ref)
                .getRequest()
                .setMethod(Bundle.HTTPVerb.PUT)
                .setUrl(ref);
    }

    /**
     * True when the database's copy must win over the repository file: it holds this canonical
     * resource in a higher version, or it was published (FHIR API, console, dev mode) in the
     * same version with other content. Either way the informatician's publish is kept and the
     * log says so; the console's export brings it back to the repository.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private boolean newerInDatabase(IBaseResource fromFile) {
        if (!(fromFile instanceof MetadataResource file) || !file.hasVersion()) {
            return false;
        }
        IFhirResourceDao dao = daoRegistry.getResourceDao(fromFile.fhirType());
        try {
            IBaseResource stored = dao.read(fromFile.getIdElement().toUnqualifiedVersionless(), TrustedLoad.request());
            if (!(stored instanceof MetadataResource db)) {
                return false;
            }
            String ref = fromFile.fhirType() + "/" + fromFile.getIdElement().getIdPart();
            int order = Versions.compare(db.getVersion(), file.getVersion());
            if (order > 0) {
                log.warn(
                        "{}: keeping version {} from the database (published by {}), newer than the repository's {}; "
                                + "export it to the repository",
                        ref,
                        db.getVersion(),
                        publisher(db),
                        file.getVersion());
                return true;
            }
            String publishedBy = PublicationStamp.publishedBy(db);
            if (order == 0
                    && publishedBy != null
                    && !PublicationStamp.content(db).equals(PublicationStamp.content(file))) {
                log.warn(
                        "{}: keeping version {} published by {} over FHIR; the repository file of the same version "
                                + "differs and is not loaded; export the published state to the repository",
                        ref,
                        db.getVersion(),
                        publishedBy);
                return true;
            }
            if (order < 0 && publishedBy != null) {
                log.info(
                        "{}: the repository's version {} replaces version {} published by {}",
                        ref,
                        file.getVersion(),
                        db.getVersion(),
                        publishedBy);
            }
        } catch (ResourceNotFoundException | ResourceGoneException e) {
            return false;
        }
        return false;
    }

    private static String publisher(IBaseResource resource) {
        String by = PublicationStamp.publishedBy(resource);
        return by == null ? "the loader" : by;
    }
}
