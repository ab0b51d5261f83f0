package org.crlm.cds.knowledge;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.crlm.cds.rules.CqlSource;
import org.crlm.cds.rules.KnowledgeResources;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Enumerations.PublicationStatus;
import org.hl7.fhir.r4.model.Library;

/**
 * Reads the repository's knowledge and demo data from disk: {@code fhir-resources/**.json}
 * (resources or Bundles of them) and {@code cql/*.cql} (each becomes a Library). Parsing is
 * strict; a file that cannot be read fails with its name. No Spring, so the rule-check CLI
 * uses it too.
 */
public final class RepositoryFiles {

    private final FhirContext fhirContext;

    public RepositoryFiles(FhirContext fhirContext) {
        this.fhirContext = fhirContext;
    }

    /** A resource read from a file, with the file it came from. */
    public record FileResource(Path file, IBaseResource resource) {}

    /** Every resource under {@code dir}, Bundles unpacked; the demo folder only when asked. */
    public List<FileResource> readResources(Path dir, boolean includeDemo) {
        List<FileResource> result = new ArrayList<>();
        for (Path file : jsonFiles(dir)) {
            boolean demo = dir.relativize(file).startsWith(KnowledgeProperties.DEMO_FOLDER);
            if (demo && !includeDemo) {
                continue;
            }
            for (IBaseResource r : unpack(parse(file))) {
                if (r.getIdElement().getIdPart() == null) {
                    throw new MalformedResourceFileException(
                            file, r.fhirType() + " without an id (ids make loading idempotent)", null);
                }
                result.add(new FileResource(file, r));
            }
        }
        return result;
    }

    /** Each {@code *.cql} file directly in {@code dir} as a Library (CQL as text/cql). */
    public List<FileResource> readCqlLibraries(Path dir, String canonicalBase) {
        List<FileResource> result = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            throw new MalformedResourceFileException(dir, "the CQL folder does not exist", null);
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file :
                    files.filter(f -> f.toString().endsWith(".cql")).sorted().toList()) {
                String text = Files.readString(file, StandardCharsets.UTF_8);
                CqlSource source = CqlSource.of(text, file.toString())
                        .orElseThrow(() ->
                                new MalformedResourceFileException(file, "no 'library Name version' header", null));
                if (source.version() == null) {
                    throw new MalformedResourceFileException(file, "the library header has no version", null);
                }
                result.add(new FileResource(file, toLibrary(source, canonicalBase)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return result;
    }

    /** The Library resource a CQL source is published as. */
    /** The knowledge the repository holds: every CQL library of {@code cqlDir} and the knowledge resources of {@code resourceDir}. */
    public KnowledgeResources knowledge(Path cqlDir, Path resourceDir, String canonicalBase) {
        List<IBaseResource> knowledge = new ArrayList<>();
        readCqlLibraries(cqlDir, canonicalBase).forEach(f -> knowledge.add(f.resource()));
        readResources(resourceDir, false).stream()
                .map(FileResource::resource)
                .filter(r -> KnowledgeResources.TYPES.contains(r.fhirType()))
                .forEach(knowledge::add);
        return KnowledgeResources.of(knowledge);
    }

    public static Library toLibrary(CqlSource source, String canonicalBase) {
        Library library = new Library();
        library.setId(source.name());
        library.setUrl(canonicalBase + "/Library/" + source.name());
        library.setName(source.name());
        library.setVersion(source.version());
        library.setTitle(source.name());
        library.setStatus(PublicationStatus.ACTIVE);
        library.setType(new CodeableConcept()
                .addCoding(new Coding(
                        "http://terminology.hl7.org/CodeSystem/library-type", "logic-library", "Logic Library")));
        library.addContent().setContentType("text/cql").setData(source.text().getBytes(StandardCharsets.UTF_8));
        return library;
    }

    private IBaseResource parse(Path file) {
        IParser parser = fhirContext.newJsonParser().setParserErrorHandler(new StrictErrorHandler());
        try {
            return parser.parseResource(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new MalformedResourceFileException(file, e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new MalformedResourceFileException(file, e.getMessage(), e);
        }
    }

    private static List<IBaseResource> unpack(IBaseResource resource) {
        if (resource instanceof Bundle bundle && bundle.getType() != Bundle.BundleType.SEARCHSET) {
            List<IBaseResource> entries = new ArrayList<>();
            bundle.getEntry().forEach(e -> entries.add(e.getResource()));
            return entries;
        }
        return List.of(resource);
    }

    private static List<Path> jsonFiles(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new MalformedResourceFileException(dir, "the resources folder does not exist", null);
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".json") && Files.isRegularFile(f))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
