// Loaded (blocking) first thing in <body>, so nhsuk-frontend's JS-only styles apply before the
// first paint. A file rather than an inline script: the Content-Security-Policy allows no inline
// script (config/security.py).
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " nhsuk-frontend-supported" : "");
