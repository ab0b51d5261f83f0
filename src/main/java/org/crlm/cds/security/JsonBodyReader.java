package org.crlm.cds.security;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;

/**
 * Reads a CDS Hooks JSON body within the configured limits: content type (415), size (413),
 * nesting depth (400), duplicate keys (400) and number of values (413) are checked by a streaming pass before the
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
                // {"hook": "a", "hook": "b"}: a body that means different things to different parsers is refused.
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(limits.maxDepth())
                        .maxDocumentLength(limits.maxBodySize().toBytes())
                        .build())
                .build();
        // Decimals stay exact (3.20 stays 3.20), as HAPI's own JSON parser keeps them: FHIR
        // resources in the body are parsed from this tree.
        this.mapper = new ObjectMapper(factory)
                .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true))
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
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
        JsonNode tree;
        try {
            // Size and depth are bounded while parsing; the element count is checked on the tree,
            // whose size the body limit already bounds.
            tree = mapper.readTree(body);
        } catch (StreamConstraintsException e) {
            throw new RequestRejectedException(
                    400, "too-costly", "The request body is nested deeper than " + limits.maxDepth() + " levels");
        } catch (JsonProcessingException e) {
            throw new RequestRejectedException(
                    400,
                    "invalid",
                    "The request body is not valid JSON (line "
                            + e.getLocation().getLineNr() + ", column "
                            + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            throw new RequestRejectedException(400, "invalid", "The request body is not valid JSON");
        }
        if (tree == null || tree.isMissingNode()) {
            throw new RequestRejectedException(400, "invalid", "The request body is empty; a JSON object is required");
        }
        if (values(tree) > limits.maxElements()) {
            throw new RequestRejectedException(
                    413, "too-costly", "The request body has more than " + limits.maxElements() + " JSON values");
        }
        return tree;
    }

    /** Objects, arrays and scalar values in the tree (field names not counted). */
    private int values(JsonNode root) {
        int values = 0;
        java.util.ArrayDeque<JsonNode> pending = new java.util.ArrayDeque<>();
        pending.push(root);
        while (!pending.isEmpty()) {
            JsonNode node = pending.pop();
            if (++values > limits.maxElements()) {
                return values;
            }
            if (node.isContainerNode()) {
                for (JsonNode child : node) {
                    pending.push(child);
                }
            }
        }
        return values;
    }

    private static void checkContentType(String contentType) {
        if (contentType == null) {
            throw new RequestRejectedException(415, "not-supported", "Content-Type must be application/json");
        }
        try {
            MediaType type = MediaType.parseMediaType(contentType);
            if (type.isCompatibleWith(MediaType.APPLICATION_JSON)
                    || ("application".equals(type.getType())
                            && type.getSubtype().endsWith("+json"))) {
                return;
            }
        } catch (IllegalArgumentException e) {
            // fall through: unreadable content type
        }
        throw new RequestRejectedException(415, "not-supported", "Content-Type must be application/json");
    }
}
