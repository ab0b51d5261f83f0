package org.crlm.cds.authoring;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.crlm.cds.knowledge.KnowledgeProperties;
import org.crlm.cds.knowledge.RepositoryFiles;
import org.crlm.cds.rules.CqlSource;
import org.hl7.fhir.instance.model.api.IBaseOperationOutcome;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Dev mode ({@code crlm.authoring.dev-mode=true}): when a file in cql/ is saved, its library
 * is published to the running server through the same check as any publish, so a broken
 * edit is reported with line and column in the log and the last good rules keep serving.
 */
@Component
public class DevModeWatcher implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(DevModeWatcher.class);

    private final AuthoringProperties properties;
    private final KnowledgeProperties knowledge;
    private final DaoRegistry daoRegistry;
    private final Map<Path, FileTime> seen = new HashMap<>();
    private ScheduledExecutorService timer;
    private volatile Attempt lastAttempt;

    /** The outcome of the last publish of a saved file: what an informatician (and a test) can check. */
    public record Attempt(String file, String version, boolean published, List<String> problems) {}

    public DevModeWatcher(AuthoringProperties properties, KnowledgeProperties knowledge, DaoRegistry daoRegistry) {
        this.properties = properties;
        this.knowledge = knowledge;
        this.daoRegistry = daoRegistry;
    }

    @EventListener(ApplicationReadyEvent.class)
    public void start() {
        if (!properties.devMode()) {
            return;
        }
        scan(false);
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cql-dev-mode");
            t.setDaemon(true);
            return t;
        });
        long every = properties.pollInterval().toMillis();
        timer.scheduleWithFixedDelay(() -> scan(true), every, every, TimeUnit.MILLISECONDS);
        log.warn(
                "DEV MODE: watching {} and publishing saved CQL to this server",
                knowledge.cqlDir().toAbsolutePath());
    }

    synchronized void scan(boolean publish) {
        try (Stream<Path> files = Files.list(knowledge.cqlDir())) {
            for (Path file : files.filter(f -> f.toString().endsWith(".cql")).toList()) {
                FileTime modified = Files.getLastModifiedTime(file);
                FileTime before = seen.put(file, modified);
                if (publish && !modified.equals(before)) {
                    publish(file);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("Dev mode: could not scan {}: {}", knowledge.cqlDir(), e.toString());
        }
    }

    private void publish(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        CqlSource source = CqlSource.of(text, file.toString()).orElse(null);
        if (source == null || source.version() == null) {
            log.error("Dev mode: {} has no 'library Name version' header; not published", file.getFileName());
            lastAttempt = new Attempt(
                    file.getFileName().toString(), null, false, List.of("no 'library Name version' header"));
            return;
        }
        Library library = RepositoryFiles.toLibrary(source, knowledge.canonicalBase());
        try {
            SystemRequestDetails request = new SystemRequestDetails();
            request.getUserData().put(RulePublishInterceptor.AUTHOR, "dev mode (" + file.getFileName() + ")");
            daoRegistry.getResourceDao(Library.class).update(library, request);
            log.info("Dev mode: published {} {} from {}", source.name(), source.version(), file.getFileName());
            lastAttempt = new Attempt(file.getFileName().toString(), source.version(), true, List.of());
        } catch (UnprocessableEntityException e) {
            List<String> problems = new ArrayList<>();
            IBaseOperationOutcome outcome = e.getOperationOutcome();
            if (outcome instanceof OperationOutcome oo) {
                oo.getIssue().forEach(issue -> problems.add(issue.getDiagnostics()));
            } else {
                problems.add(e.getMessage());
            }
            problems.forEach(p -> log.error("Dev mode: {} not published: {}", file.getFileName(), p));
            lastAttempt = new Attempt(file.getFileName().toString(), source.version(), false, List.copyOf(problems));
        }
    }

    public Optional<Attempt> lastAttempt() {
        return Optional.ofNullable(lastAttempt);
    }

    @Override
    public void destroy() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
