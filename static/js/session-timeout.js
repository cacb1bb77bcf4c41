// Warns before an idle session is signed out (accounts/session_timeout.py) and offers to keep
// it. The limits come from <body>'s data- attributes: the Content-Security-Policy allows no
// inline script. At the limit the page is loaded again, so the server decides: it signs out
// and shows why, or (if another tab kept the session alive) just shows the page.
(() => {
  const body = document.body;
  const idleSeconds = Number(body.dataset.sessionIdleSeconds);
  const warningSeconds = Number(body.dataset.sessionWarningSeconds);
  const keepAliveUrl = body.dataset.sessionKeepAliveUrl;
  const warning = document.getElementById("session-timeout-warning");
  if (!idleSeconds || !keepAliveUrl || !warning) return;
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
    warning.hidden = false;
    button.focus();
  }

  function hideWarning() {
    if (warning.hidden) return;
    warning.hidden = true;
    if (focusBefore && document.contains(focusBefore)) focusBefore.focus();
  }

  // The server counts every request as activity, so the clock restarts after each one.
  function restartClock() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    hideWarning();
    warnTimer = setTimeout(showWarning, (idleSeconds - warningSeconds) * 1000);
    // A second's grace, so the server surely sees the session as idle.
    endTimer = setTimeout(() => window.location.assign(window.location.href), (idleSeconds + 1) * 1000);
  }

  button.addEventListener("click", async () => {
    const response = await fetch(keepAliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    });
    if (response.status === 204) {
      restartClock();
    } else {
      window.location.assign(response.headers.get("HX-Redirect") || window.location.href);
    }
  });
  document.addEventListener("htmx:afterRequest", restartClock);
  restartClock();
})();
