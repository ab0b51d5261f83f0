package org.crlm.cds.authoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;
import java.util.TreeSet;
import org.crlm.cds.support.Http;

/** What the console tests share: the console API's JSON calls and the informatician's R2 edit. */
final class ConsoleApi {

    private ConsoleApi() {}

    /** POSTs JSON to the console API as the given author; the call must succeed. */
    static JsonNode post(String url, Object body, String authorToken) {
        Http.Response response = Http.postJson(url, Http.write(body), authorToken);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        return response.json();
    }

    /** R2 from this many planned lesions (2 in the repository); no card states it in figures. */
    static String threshold(String cql, String version, String count) {
        return cql.replaceFirst(
                        "library CRLMAblationRules version '[^']+'",
                        "library CRLMAblationRules version '" + version + "'")
                .replace(
                        "parameter \"Multiple Ablation Count\" Integer default 2",
                        "parameter \"Multiple Ablation Count\" Integer default " + count);
    }

    /** The texts of a JSON array, sorted. */
    static Set<String> set(JsonNode array) {
        Set<String> values = new TreeSet<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }
}
