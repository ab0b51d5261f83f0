package org.crlm.cds.cdshooks;

import java.net.URI;
import java.util.Locale;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Recognises a {@code fhirServer} that is this server's own /fhir, as a client on this machine
 * addresses it ({@code http://127.0.0.1:8080/fhir}, {@code http://localhost:8080/fhir}):
 * loopback host, the port this server listens on, path /fhir. Only when
 * {@code crlm.cds.accept-own-fhir-server} is on (the demo profile); otherwise the outbound
 * allow-list decides as for any other server.
 */
@Component
public class OwnFhirServer {

    private final PatientRecordProperties properties;
    private final Environment environment;

    public OwnFhirServer(PatientRecordProperties properties, Environment environment) {
        this.properties = properties;
        this.environment = environment;
    }

    public boolean is(String fhirServer) {
        if (!properties.acceptOwnFhirServer() || fhirServer == null) {
            return false;
        }
        URI uri;
        try {
            uri = URI.create(fhirServer.trim());
        } catch (IllegalArgumentException e) {
            return false;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https"))
                || uri.getUserInfo() != null
                || uri.getRawQuery() != null
                || uri.getRawFragment() != null) {
            return false;
        }
        boolean loopback = host.equals("localhost")
                || host.equals("[::1]")
                || host.equals("::1")
                || host.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
        int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
        String contextPath =
                environment.getProperty("server.servlet.context-path", "").replaceAll("/+$", "");
        return loopback
                && String.valueOf(port).equals(environment.getProperty("local.server.port"))
                && path.equals(contextPath + "/fhir");
    }
}
