/* The admin's accessibility fixes that need the page built first (a static file: strict
   CSP). Django's admin scripts make two widgets a screen reader cannot name:
   - the autocomplete box (select2) of a foreign key has no accessible name: give it the
     field's label;
   - the help icon of a two-list selector carries aria-label on a plain span: give it the
     image role that allows one. */
(function () {
  "use strict";

  function nameAutocompletes() {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = document.querySelector('label[for="' + select.id + '"]');
      if (!label) { return; }
      var name = label.textContent.replace(/:\s*$/, "").trim();
      select.parentNode
        .querySelectorAll('.select2-selection[role="combobox"], .select2-selection__rendered[role="textbox"]')
        .forEach(function (box) {
          if (!box.getAttribute("aria-label")) { box.setAttribute("aria-label", name); }
        });
    });
  }

  function roleHelpIcons() {
    document.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  // Some admins' search box (django-otp's) is named by its title alone.
  function nameSearchBox() {
    var search = document.getElementById("searchbar");
    if (search && !search.getAttribute("aria-label")) { search.setAttribute("aria-label", "Search"); }
  }

  // An inline table's first column (the record's name) and its last (delete) have empty
  // headers; a screen reader reads a header for every cell.
  function nameEmptyHeaders() {
    document.querySelectorAll(".inline-group thead th").forEach(function (th) {
      if (th.textContent.trim() || th.querySelector(".clinic-sr-only")) { return; }
      var text = document.createElement("span");
      text.className = "clinic-sr-only";
      text.textContent = th.classList.contains("original") ? "Record" : "Other";
      th.appendChild(text);
    });
  }

  // An image with no text (django-otp's QR code) is named for what it shows.
  function nameImages() {
    document.querySelectorAll("#content img:not([alt])").forEach(function (img) {
      img.setAttribute("alt", "QR code of the authenticator's key");
    });
  }

  function fix() {
    nameAutocompletes();
    roleHelpIcons();
    nameSearchBox();
    nameEmptyHeaders();
    nameImages();
  }

  // The widgets are built by other scripts, some after the page has loaded: fix what is
  // there now and whatever they add later.
  fix();
  new MutationObserver(fix).observe(document.body, { childList: true, subtree: true });
})();
