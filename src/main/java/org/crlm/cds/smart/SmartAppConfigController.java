package org.crlm.cds.smart;

import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** The app's launch settings (client id and scopes), so a deployment sets them in application.yaml. */
@RestController
public class SmartAppConfigController {

    public record LaunchSettings(String clientId, String scope) {}

    private final SmartAppProperties properties;

    public SmartAppConfigController(SmartAppProperties properties) {
        this.properties = properties;
    }

    @GetMapping(value = "/smart/api/launch-settings", produces = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<LaunchSettings> settings() {
        return ResponseEntity.ok()
                .cacheControl(CacheControl.noCache())
                .body(new LaunchSettings(properties.clientId(), properties.scope()));
    }
}
