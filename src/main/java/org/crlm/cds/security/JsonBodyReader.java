package org.crlm.cds.security;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;

/**
 * Reads a CDS Hooks JSON body within the configured limits: content type (415), size (413),
 * nesting depth (400) and number of values (413) are checked by a streaming pass before the
 * tree is built, so an oversized or hostile body never reaches the parser's object model.
 */
@Component
public class JsonBodyReader {

    private final LimitsProperties limits;
    private final JsonFactory factory;
    private final ObjectMapper mapper;

    public JsonBodyReader(LimitsProperties limits) {
        this.limits = limits;
        this.factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(limits.maxDepth())
                        .maxDocumentLength(limits.maxBodySize().toBytes())
                        .build())
                .build();
        this.mapper = new ObjectMapper(factory);
    }

    public JsonNode read(HttpServletRequest request) {
        checkContentType(request.getContentType());
        long max = limits.maxBodySize().toBytes();
        if (request.getContentLengthLong() > max) {
            throw new RequestRejectedException(413, "too-costly", "The request body is larger than " + max + " bytes");
        }
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        } catch (IOException e) {
            throw new RequestRejectedException(400, "invalid", "The request body could not be read");
        }
        if (body.length > max) {
            throw new RequestRejectedException(413, "too-costly", "The request body is larger than " + max + " bytes");
        }
        return parse(body);
    }

    public JsonNode parse(byte[] body) {
        if (body.length == 0) {
            throw new RequestRejectedException(400, "invalid", "The request body is empty; a JSON object is required");
        }
        scan(body);
        try {
            return mapper.readTree(body);
        } catch (IOException e) {
            throw new RequestRejectedException(400, "invalid", "The request body is not valid JSON");
        }
    }

    private void scan(byte[] body) {
        try (JsonParser parser = factory.createParser(body)) {
            int values = 0;
            JsonToken token;
            while ((token = parser.nextToken()) != null) {
                if (token != JsonToken.END_OBJECT && token != JsonToken.END_ARRAY && token != JsonToken.FIELD_NAME
                        && ++values > limits.maxElements()) {
                    throw new RequestRejectedException(413, "too-costly",
                            "The request body has more than " + limits.maxElements() + " JSON values");
                }
            }
        } catch (StreamConstraintsException e) {
            throw new RequestRejectedException(400, "too-costly",
                    "The request body is nested deeper than " + limits.maxDepth() + " levels");
        } catch (JsonProcessingException e) {
            throw new RequestRejectedException(400, "invalid", "The request body is not valid JSON (line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            throw new RequestRejectedException(400, "invalid", "The request body is not valid JSON");
        }
    }

    private static void checkContentType(String contentType) {
        if (contentType == null) {
            throw new RequestRejectedException(415, "not-supported", "Content-Type must be application/json");
        }
        try {
            MediaType type = MediaType.parseMediaType(contentType);
            if (type.isCompatibleWith(MediaType.APPLICATION_JSON)
                    || ("application".equals(type.getType()) && type.getSubtype().endsWith("+json"))) {
                return;
            }
        } catch (IllegalArgumentException e) {
            // fall through: unreadable content type
        }
        throw new RequestRejectedException(415, "not-supported", "Content-Type must be application/json");
    }
}
