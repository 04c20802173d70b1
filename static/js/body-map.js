/* Clickable body-region map: each shape toggles the hidden checkbox of its region, so the
   form posts the same data with or without JavaScript. Loaded as a file (strict CSP). */
(function () {
  "use strict";

  function initMap(container) {
    var name = container.getAttribute("data-body-map");
    var boxes = Array.prototype.slice.call(
      container.querySelectorAll('input[type="checkbox"][name="' + name + '"]')
    );
    var shapes = Array.prototype.slice.call(container.querySelectorAll("[data-region]"));

    function boxFor(region) {
      for (var i = 0; i < boxes.length; i++) {
        if (boxes[i].value === region) { return boxes[i]; }
      }
      return null;
    }

    function sync() {
      shapes.forEach(function (shape) {
        var box = boxFor(shape.getAttribute("data-region"));
        var on = Boolean(box && box.checked);
        shape.classList.toggle("selected", on);
        shape.setAttribute("aria-pressed", on ? "true" : "false");
      });
    }

    function toggle(shape) {
      var box = boxFor(shape.getAttribute("data-region"));
      if (!box) { return; }
      box.checked = !box.checked;
      sync();
    }

    shapes.forEach(function (shape) {
      shape.addEventListener("click", function () { toggle(shape); });
      shape.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          toggle(shape);
        }
      });
    });
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    // Only now hide the checkboxes the map stands for: without JS they stay usable.
    container.classList.add("body-map-ready");
    sync();
  }

  document.querySelectorAll("[data-body-map]").forEach(initMap);
})();
