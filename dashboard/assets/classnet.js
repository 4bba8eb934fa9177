/* Clientside callbacks of the shell (dashboard/shell.py): no server round trip for the menu. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  classnet: {
    chooseLanguage: function (chosen, current) {
      if (!chosen || chosen === current) {
        return window.dash_clientside.no_update;
      }
      // The server renders every page in this language from now on (a year, whole site).
      document.cookie = "classnet-lang=" + encodeURIComponent(chosen) +
        "; path=/; max-age=31536000; SameSite=Lax";
      window.location.reload();
      return chosen;
    },
    toggleMenu: function (clicks, pathname, className) {
      const trigger = window.dash_clientside.callback_context.triggered_id;
      const open = trigger === "app-menu-button" && !(className || "").includes("open");
      return [open ? "header open" : "header", open ? "true" : "false"];
    },
  },
});
