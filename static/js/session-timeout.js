// Warns before an idle session is signed out (accounts/session_timeout.py) and offers to keep
// it. The limits come from <body>'s data- attributes: the Content-Security-Policy allows no
// inline script. At the limit the page is loaded again, so the server decides: it signs out
// and shows why, or (if another tab kept the session alive) just shows the page.
(() => {
  const body = document.body;
  const idleSeconds = Number(body.dataset.sessionIdleSeconds);
  const warningSeconds = Number(body.dataset.sessionWarningSeconds);
  const keepAliveUrl = body.dataset.sessionKeepAliveUrl;
  const template = document.getElementById("session-timeout-warning-template");
  if (!idleSeconds || !keepAliveUrl || !template) return;
  const warning = template.content.firstElementChild.cloneNode(true);
  const button = warning.querySelector("[data-session-keep-alive]");
  let warnTimer;
  let endTimer;
  let focusBefore = null;

  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch {
      return "";
    }
  }

  function showWarning() {
    focusBefore = document.activeElement;
    document.body.append(warning);
    button.focus();
  }

  function hideWarning() {
    if (!warning.isConnected) return;
    warning.remove();
    if (focusBefore && document.contains(focusBefore)) focusBefore.focus();
  }

  // A GET of this page without its #fragment (with one, the browser would only scroll).
  function reloadPage() {
    window.location.assign(window.location.href.split("#")[0]);
  }

  // The server counts every request as activity, so the clock restarts after each one.
  function restartClock() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    hideWarning();
    warnTimer = setTimeout(showWarning, (idleSeconds - warningSeconds) * 1000);
    // A second's grace, so the server surely sees the session as idle.
    endTimer = setTimeout(reloadPage, (idleSeconds + 1) * 1000);
  }

  button.addEventListener("click", async () => {
    let response;
    try {
      response = await fetch(keepAliveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken() },
      });
    } catch {
      return; // offline for a moment: the warning stays, so the button can be pressed again
    }
    if (response.status === 204) {
      restartClock();
    } else {
      const next = response.headers.get("HX-Redirect");
      if (next) window.location.assign(next);
      else reloadPage();
    }
  });
  document.addEventListener("htmx:afterRequest", restartClock);
  restartClock();
})();
