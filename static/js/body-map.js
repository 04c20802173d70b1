/* The body-region map over a regions field's checkboxes (loaded as a file: strict CSP).

   Without JavaScript the map is a picture and the checkboxes do the work. Here each part of
   the map becomes a checkbox of its own, kept in step with the real one, so the form posts
   the same data either way. The map is one Tab stop (a roving tabindex): the arrow keys move
   between parts in the order the page lists them (trunk from top to bottom, then limbs),
   Home and End jump to the first and last, Space (or Enter) toggles the part in focus. What
   is chosen is listed in words under the map, and a screen reader hears each change. */
(function () {
  "use strict";

  var NEXT = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

  function initMap(container) {
    var name = container.getAttribute("data-body-map");
    var svg = container.querySelector("svg.body-map");
    var chosenText = container.querySelector("[data-chosen]");
    var boxes = Array.prototype.slice.call(
      container.querySelectorAll('input[type="checkbox"][name="' + name + '"]')
    );
    var parts = Array.prototype.slice.call(svg.querySelectorAll("[data-region]"));
    if (!parts.length) { return; }

    function boxFor(part) {
      var region = part.getAttribute("data-region");
      for (var i = 0; i < boxes.length; i++) {
        if (boxes[i].value === region) { return boxes[i]; }
      }
      return null;
    }

    function labelFor(box) {
      var label = container.querySelector('label[for="' + box.id + '"]');
      return label ? label.textContent.trim() : box.value;
    }

    function sync() {
      parts.forEach(function (part) {
        var box = boxFor(part);
        var on = Boolean(box && box.checked);
        part.classList.toggle("selected", on);
        part.setAttribute("aria-checked", on ? "true" : "false");
      });
      var names = boxes.filter(function (box) { return box.checked; }).map(labelFor);
      // The sentence comes translated from the page: "Chosen: %(regions)s" and "none".
      var words = chosenText.getAttribute("data-chosen-words") || "Chosen: %(regions)s";
      var none = chosenText.getAttribute("data-no-regions") || "none";
      chosenText.textContent = words.replace("%(regions)s", names.length ? names.join(", ") : none);
    }

    function focusPart(part) {
      parts.forEach(function (other) {
        other.setAttribute("tabindex", other === part ? "0" : "-1");
      });
      part.focus();
    }

    function toggle(part) {
      var box = boxFor(part);
      if (!box) { return; }
      box.checked = !box.checked;
      sync();
    }

    svg.removeAttribute("aria-hidden");
    svg.setAttribute("role", "group");
    svg.setAttribute("aria-label", svg.getAttribute("data-map-label"));
    parts.forEach(function (part, index) {
      part.setAttribute("role", "checkbox");
      part.setAttribute("aria-label", part.getAttribute("data-label"));
      part.setAttribute("tabindex", index === 0 ? "0" : "-1");
      part.addEventListener("click", function () {
        toggle(part);
        focusPart(part);
      });
    });
    svg.addEventListener("keydown", function (event) {
      var index = parts.indexOf(document.activeElement);
      if (index < 0) { return; }
      var target = null;
      if (event.key in NEXT) {
        target = parts[(index + NEXT[event.key] + parts.length) % parts.length];
      } else if (event.key === "Home") {
        target = parts[0];
      } else if (event.key === "End") {
        target = parts[parts.length - 1];
      } else if (event.key === " " || event.key === "Enter") {
        event.preventDefault();
        toggle(parts[index]);
        return;
      } else {
        return;
      }
      event.preventDefault();
      focusPart(target);
    });
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    // Only now may the map stand in for its checkboxes (intake.css hides them on wide
    // screens; on a phone they stay, as buttons large enough for a finger).
    container.classList.add("body-map-ready");
    sync();
  }

  document.querySelectorAll("[data-body-map]").forEach(initMap);
})();
