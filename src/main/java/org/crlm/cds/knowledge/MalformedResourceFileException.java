package org.crlm.cds.knowledge;

import java.nio.file.Path;

/** A file under fhir-resources/ or cql/ that cannot be read; start-up stops with its name. */
public class MalformedResourceFileException extends RuntimeException {

    private final Path file;

    public MalformedResourceFileException(Path file, String reason, Throwable cause) {
        super("Cannot load " + file + ": " + reason, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
