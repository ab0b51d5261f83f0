// SMART App Launch 2.x. An EHR launch brings `launch` and `iss`: fhirclient reads the server's
// .well-known/smart-configuration and sends the user to its authorization endpoint with PKCE (S256).
// The demo's open-server convention (the CDS Hooks Sandbox's smart links) brings `fhirServiceUrl`
// and `patientId` instead: no authorization server, the FHIR server is open.
(async function launch() {
  const params = new URLSearchParams(window.location.search);
  // The Sandbox passes a card's appContext as a query parameter; an EHR passes it in the token response.
  if (params.has("appContext")) {
    sessionStorage.setItem("crlm.appContext", params.get("appContext"));
  } else {
    sessionStorage.removeItem("crlm.appContext");
  }
  try {
    const settings = await fetch("api/launch-settings").then((r) => r.json());
    const openServer = params.has("fhirServiceUrl") && !params.has("iss");
    await FHIR.oauth2.authorize({
      clientId: settings.clientId,
      scope: settings.scope,
      redirectUri: "index.html",
      pkceMode: openServer ? "ifSupported" : "required",
    });
  } catch (e) {
    document.getElementById("status").textContent = "The launch failed: " + e.message;
  }
})();
