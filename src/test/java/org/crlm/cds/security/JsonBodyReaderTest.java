package org.crlm.cds.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.util.unit.DataSize;

/** A CDS Hooks body is read within the limits, and one that could mean two things is refused. */
class JsonBodyReaderTest {

    private final JsonBodyReader reader = new JsonBodyReader(new LimitsProperties(DataSize.ofKilobytes(64), 8, 20));

    @Test
    void aKeyNamedTwiceIsRefusedAtAnyLevel() {
        for (String body : new String[] {
            "{\"hook\": \"patient-view\", \"hook\": \"order-sign\"}",
            "{\"hook\": \"patient-view\", \"context\": {\"patientId\": \"a\", \"patientId\": \"b\"}}",
            "{\"prefetch\": {\"p\": {\"resourceType\": \"Patient\", \"entry\": [{\"id\": \"1\", \"id\": \"2\"}]}}}"
        }) {
            assertThatThrownBy(() -> reader.parse(bytes(body)))
                    .as(body)
                    .isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.issueCode()).isEqualTo("invalid");
                        assertThat(e.getMessage()).startsWith("The request body is not valid JSON");
                    });
        }
    }

    @Test
    void theSameNameInDifferentObjectsIsFine() {
        JsonNode tree =
                reader.parse(bytes("{\"id\": \"a\", \"context\": {\"id\": \"b\"}, \"list\": [{\"id\": \"c\"}]}"));
        assertThat(tree.path("context").path("id").asText()).isEqualTo("b");
        assertThat(tree.path("list").path(0).path("id").asText()).isEqualTo("c");
    }

    @Test
    void valuesAreCountedUpToTheLimitAndOneMoreIsRefused() {
        // The object, the array and its 18 numbers: 20 values, the limit.
        String twenty = "{\"pad\": [" + "0,".repeat(17) + "0]}";
        assertThat(reader.parse(bytes(twenty)).path("pad").size()).isEqualTo(18);
        String twentyOne = "{\"pad\": [" + "0,".repeat(17) + "0], \"more\": {}}";
        assertThatThrownBy(() -> reader.parse(bytes(twentyOne)))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.status())
                        .isEqualTo(413));
    }

    @Test
    void aBodyWithTheMostTokensPerValueWithinTheLimitIsRead() {
        // The object and 19 empty objects: 20 values, 59 tokens (names, starts and ends).
        StringBuilder body = new StringBuilder("{");
        for (int i = 0; i < 19; i++) {
            body.append(i == 0 ? "" : ",").append("\"k").append(i).append("\": {}");
        }
        assertThat(reader.parse(bytes(body.append('}').toString())).size()).isEqualTo(19);
    }

    @Test
    void aBodyOfManyEmptyObjectsIsRefusedWhileParsingNotAfterBuildingIt() {
        String objects = "[" + "{},".repeat(5_000) + "{}]";
        assertThatThrownBy(() -> reader.parse(bytes(objects)))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                    assertThat(e.status()).isEqualTo(413);
                    assertThat(e.getMessage()).isEqualTo("The request body has more than 20 JSON values");
                    // Refused by the parser's token limit (61 tokens): the tree was never built.
                    assertThat(e.getCause()).isInstanceOf(StreamConstraintsException.class);
                });
    }

    @Test
    void decimalsStayExact() {
        JsonNode tree = reader.parse(bytes("{\"value\": 3.20}"));
        assertThat(tree.path("value").decimalValue().toPlainString()).isEqualTo("3.20");
    }

    @Test
    void aBodyIsReadWholeWithOrWithoutContentLength() {
        String body = "{\"hook\": \"patient-view\", \"note\": \"" + "≥ 30 mm ".repeat(200) + "\"}";
        MockHttpServletRequest declared = request(body);
        assertThat(reader.read(declared).path("note").asText()).isEqualTo("≥ 30 mm ".repeat(200));

        MockHttpServletRequest chunked = new MockHttpServletRequest("POST", "/cds-services/x") {
            @Override
            public long getContentLengthLong() {
                return -1; // sent chunked: no Content-Length
            }
        };
        chunked.setContentType("application/json");
        chunked.setContent(bytes(body));
        assertThat(reader.read(chunked).path("note").asText()).isEqualTo("≥ 30 mm ".repeat(200));
    }

    @Test
    void aBodyOverTheSizeLimitIsRefusedBeforeParsing() {
        MockHttpServletRequest large = request("{\"pad\": \"" + "x".repeat(70 * 1024) + "\"}");
        assertThatThrownBy(() -> reader.read(large))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> assertThat(e.status())
                        .isEqualTo(413));
    }

    @Test
    void aBodyNestedDeeperThanTheLimitIsRefused() {
        String deep = "{\"a\":".repeat(9) + "1" + "}".repeat(9);
        assertThatThrownBy(() -> reader.parse(bytes(deep)))
                .isInstanceOfSatisfying(RequestRejectedException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.issueCode()).isEqualTo("too-costly");
                });
    }

    private static MockHttpServletRequest request(String body) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/cds-services/x");
        request.setContentType("application/json");
        request.setContent(bytes(body));
        return request;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
