/* Repairs to the accessibility of Dash 4's own components (axe-core flags each; the dashboard's
   browser tests run axe on every page, tests/dashboard/test_layout.py).

   1. RadioItems and Checklist render role="listbox" with role="option" labels that each hold a
      real radio button or checkbox: a screen reader meets options that contain controls, and a
      listbox without a name. The native inputs already say what they are, so the options lose
      their role, and the list becomes a named radio group (or group), named by the caption the
      page gives its wrapper (aria-label / aria-labelledby).
   2. Dropdown puts the keyboard's stop on an aria-hidden input that passes focus on to the real
      button: the stop moves to the button itself (which opens on Enter / ArrowDown).
   3. Its "clear" cross is a link without a target inside that button, named with aria-label
      (not allowed there) and out of the keyboard's reach: it is hidden from assistive
      technology, which clears through the list's own "Deselect all". */
(function () {
  const NAMES = ["aria-label", "aria-labelledby"];

  function repair(root) {
    root.querySelectorAll('.dash-radioitems[role="listbox"], .dash-checklist[role="listbox"]')
      .forEach(function (list) {
        list.setAttribute("role", list.classList.contains("dash-radioitems") ? "radiogroup" : "group");
        const wrapper = list.parentElement;
        NAMES.forEach(function (name) {
          if (wrapper && wrapper.hasAttribute(name) && !list.hasAttribute(name)) {
            list.setAttribute(name, wrapper.getAttribute(name));
          }
        });
      });
    // React sets aria-selected again on an option whose box is ticked after the list drew.
    root.querySelectorAll(
      '.dash-options-list-option[role="option"], .dash-options-list-option[aria-selected]'
    ).forEach(function (option) {
      option.removeAttribute("role");
      option.removeAttribute("aria-selected");
    });
    root.querySelectorAll('input.dash-dropdown-focus-target[tabindex="0"]').forEach(function (stop) {
      stop.setAttribute("tabindex", "-1");
      const button = stop.nextElementSibling;
      if (button && button.tagName === "BUTTON" && !button.disabled) {
        button.setAttribute("tabindex", "0");
      }
    });
    root.querySelectorAll("a.dash-dropdown-clear[aria-label]").forEach(function (cross) {
      cross.removeAttribute("aria-label");
      cross.setAttribute("aria-hidden", "true");
    });
  }

  new MutationObserver(function () { repair(document); }).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true,
    attributeFilter: ["role", "tabindex", "aria-label", "aria-selected"],
  });
})();
