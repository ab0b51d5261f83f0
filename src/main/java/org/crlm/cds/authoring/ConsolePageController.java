package org.crlm.cds.authoring;

import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/** Serves the authoring console page (static files under static/console/). */
@Controller
public class ConsolePageController {

    @GetMapping("/console")
    public String redirect() {
        return "redirect:/console/";
    }

    @GetMapping("/console/")
    public String page() {
        return "forward:/console/index.html";
    }
}
