package org.crlm.cds.security;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;

/**
 * Reads a CDS Hooks JSON body within the configured limits: content type (415) and size (413)
 * before parsing, nesting depth (400) and tokens (413) by the parser, duplicate keys (400) as the
 * tree is built, and the number of values (413) on the tree, whose size the token limit bounds.
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
                        // The tree is only built for bodies whose tokens fit the values limit: a
                        // value is at most 3 tokens (its field name, start and end), so no body
                        // within the limit is refused here, and 5 MB of "{}," never becomes a tree
                        // of a million objects before the count below.
                        .maxTokenCount(3L * limits.maxElements())
                        .build())
                .build();
        // Decimals stay exact (3.20 stays 3.20), as HAPI's own JSON parser keeps them: FHIR
        // resources in the body are parsed from this tree.
        this.mapper = new ObjectMapper(factory)
                .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true))
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                // {"hook": "a", "hook": "b"}: a body that means different things to different parsers is refused.
                // Checked as the tree is built (the map insert reports the earlier value), at every
                // level; the parser's own duplicate detection kept a set of names per object besides.
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
    }

    public JsonNode read(HttpServletRequest request) {
        checkContentType(request.getContentType());
        long max = limits.maxBodySize().toBytes();
        long declared = request.getContentLengthLong();
        if (declared > max) {
            throw new RequestRejectedException(413, "too-costly", "The request body is larger than " + max + " bytes");
        }
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            // With a Content-Length (within the cap, checked above) the body is read into one array
            // of that size instead of chunks joined afterwards; the container ends the stream there.
            body = declared >= 0
                    ? readDeclared(in, (int) declared)
                    : in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        } catch (IOException e) {
            throw new RequestRejectedException(400, "invalid", "The request body could not be read");
        }
        if (body.length > max) {
            throw new RequestRejectedException(413, "too-costly", "The request body is larger than " + max + " bytes");
        }
        return parse(body);
    }

    private static byte[] readDeclared(InputStream in, int length) throws IOException {
        byte[] body = new byte[length];
        int read = in.readNBytes(body, 0, length);
        return read == length ? body : Arrays.copyOf(body, read);
    }

    public JsonNode parse(byte[] body) {
        if (body.length == 0) {
            throw new RequestRejectedException(400, "invalid", "The request body is empty; a JSON object is required");
        }
        JsonNode tree;
        try {
            // Size, depth and tokens are bounded while parsing; the exact value count is checked
            // on the tree, whose size the token limit bounds.
            tree = mapper.readTree(body);
        } catch (StreamConstraintsException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("Token count")) {
                RequestRejectedException refused = tooManyValues();
                refused.initCause(e);
                throw refused;
            }
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
            throw tooManyValues();
        }
        return tree;
    }

    private RequestRejectedException tooManyValues() {
        return new RequestRejectedException(
                413, "too-costly", "The request body has more than " + limits.maxElements() + " JSON values");
    }

    /**
     * Objects, arrays and scalar values in the tree (field names not counted), stopping once over
     * the limit. Recursive: the parser has already bounded the depth.
     */
    private int values(JsonNode root) {
        return count(root, 0, limits.maxElements());
    }

    private static int count(JsonNode node, int counted, int max) {
        int values = counted + 1;
        if (node instanceof ArrayNode array) {
            for (int i = 0, n = array.size(); i < n && values <= max; i++) {
                values = count(array.get(i), values, max);
            }
        } else if (node instanceof ObjectNode object) {
            for (var field : object.properties()) {
                if (values > max) {
                    break;
                }
                values = count(field.getValue(), values, max);
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
