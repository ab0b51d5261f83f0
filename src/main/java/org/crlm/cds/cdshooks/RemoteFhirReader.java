package org.crlm.cds.cdshooks;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.security.OutboundFhirPolicy;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Runs a prefetch query against the EHR's FHIR server with the token the EHR granted. The
 * server must pass {@link OutboundFhirPolicy} first; redirects are not followed; time, size
 * and pages are bounded; next links are followed only under the same base.
 */
@Component
public class RemoteFhirReader {

    private static final Logger log = LoggerFactory.getLogger(RemoteFhirReader.class);

    private final OutboundFhirPolicy policy;
    private final FhirContext fhirContext;
    private final CdsHooksProperties properties;
    private final HttpClient client;

    public RemoteFhirReader(OutboundFhirPolicy policy, FhirContext fhirContext, CdsHooksProperties properties) {
        this.policy = policy;
        this.fhirContext = fhirContext;
        this.properties = properties;
        this.client = HttpClient.newBuilder()
                .connectTimeout(properties.fetchTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public List<IBaseResource> read(
            String key, String fhirServer, FhirAuthorization authorization, String relativeQuery) {
        policy.refusal(fhirServer).ifPresent(reason -> {
            throw new DataUnavailableException(key, reason);
        });
        String base = fhirServer.endsWith("/") ? fhirServer.substring(0, fhirServer.length() - 1) : fhirServer;
        String url = base + "/" + encode(relativeQuery);
        List<IBaseResource> resources = new ArrayList<>();
        for (int page = 0; url != null; page++) {
            if (page >= properties.maxPages()) {
                throw new DataUnavailableException(
                        key, "Prefetch '" + key + "' has more than " + properties.maxPages() + " pages");
            }
            IBaseResource body = get(key, url, authorization, !relativeQuery.contains("?"));
            if (body instanceof Bundle bundle) {
                for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
                    if (entry.getResource() != null && !(entry.getResource() instanceof OperationOutcome)) {
                        resources.add(entry.getResource());
                    }
                }
                Bundle.BundleLinkComponent next = bundle.getLink(Bundle.LINK_NEXT);
                url = next == null ? null : next.getUrl();
                if (url != null && !policy.isUnder(fhirServer, url)) {
                    throw new DataUnavailableException(
                            key, "Prefetch '" + key + "': the next page is not on the same FHIR server");
                }
            } else if (body != null) {
                resources.add(body);
                url = null;
            } else {
                url = null;
            }
            if (resources.size() > properties.maxResourcesPerQuery()) {
                throw new DataUnavailableException(
                        key,
                        "Prefetch '" + key + "' returned more than " + properties.maxResourcesPerQuery()
                                + " resources");
            }
        }
        return resources;
    }

    private IBaseResource get(String key, String url, FhirAuthorization authorization, boolean read) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .timeout(properties.fetchTimeout())
                .header("Accept", "application/fhir+json")
                .GET();
        if (authorization != null) {
            request.header("Authorization", "Bearer " + authorization.accessToken());
        }
        try {
            HttpResponse<InputStream> response =
                    client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = response.body()) {
                byte[] body = in.readNBytes((int) properties.maxResponseSize().toBytes() + 1);
                if (body.length > properties.maxResponseSize().toBytes()) {
                    throw new DataUnavailableException(
                            key, "Prefetch '" + key + "': the FHIR server's response is too large");
                }
                int status = response.statusCode();
                if (read && (status == 404 || status == 410)) {
                    return null; // the resource read does not exist: no data
                }
                if (status != 200) {
                    log.info("Outbound FHIR read for prefetch {} answered HTTP {}", key, status);
                    throw new DataUnavailableException(
                            key, "Prefetch '" + key + "': the FHIR server answered HTTP " + status);
                }
                IBaseResource resource =
                        fhirContext.newJsonParser().parseResource(new String(body, StandardCharsets.UTF_8));
                if (resource instanceof OperationOutcome) {
                    throw new DataUnavailableException(
                            key, "Prefetch '" + key + "': the FHIR server returned an OperationOutcome");
                }
                return resource;
            }
        } catch (IOException e) {
            log.info(
                    "Outbound FHIR read for prefetch {} failed: {}",
                    key,
                    e.getClass().getSimpleName());
            throw new DataUnavailableException(key, "Prefetch '" + key + "': the FHIR server could not be reached");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DataUnavailableException(key, "Prefetch '" + key + "': interrupted");
        } catch (ca.uhn.fhir.parser.DataFormatException e) {
            throw new DataUnavailableException(
                    key, "Prefetch '" + key + "': the FHIR server's response is not FHIR JSON");
        }
    }

    /** Encodes each query parameter value; the path and names stay as written. */
    static String encode(String relativeQuery) {
        int q = relativeQuery.indexOf('?');
        if (q < 0) {
            return relativeQuery;
        }
        StringBuilder out = new StringBuilder(relativeQuery.substring(0, q + 1));
        String[] params = relativeQuery.substring(q + 1).split("&");
        for (int i = 0; i < params.length; i++) {
            int eq = params[i].indexOf('=');
            if (i > 0) {
                out.append('&');
            }
            if (eq < 0) {
                out.append(params[i]);
            } else {
                out.append(params[i], 0, eq + 1)
                        .append(URLEncoder.encode(params[i].substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return out.toString();
    }
}
