// Starts nhsuk-frontend's components and the portal's own small behaviours. A static import,
// so the components are running before the page's load event (a dynamic import() could leave
// a fast click unhandled). Django's manifest storage leaves module imports as written, so this
// loads the bundle under its plain name, which collectstatic also keeps.
import { initAll } from "../vendor/nhsuk-frontend/nhsuk-frontend.min.js";

initAll();
// Components in content that htmx swaps in need starting too. initAll only looks below its
// scope, so the scope is the new element's parent; components already running there raise an
// InitError, which is expected and dropped. htmx also fires this once for the whole body at
// start-up, which initAll() above has covered.
document.addEventListener("htmx:load", (event) => {
  const scope = event.target.parentElement;
  if (event.target === document.body || !scope) return;
  initAll({
    scope,
    onError: (error) => {
      if (error.name !== "InitError") console.error(error);
    },
  });
});

// A button with data-portal-print prints the page (the discharge summary's "Print" button):
// no inline onclick handler, which the Content-Security-Policy would refuse.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-portal-print]")) {
    window.print();
  }
});
