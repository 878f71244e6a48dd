/* The catalogue's filters, in place (output/index.html; policyprint/catalogue.py copies this file).

   Without this script every filter link opens a page of its own (output/filter/<slug>.html).
   With it, the same link shows the same files on this page without loading another: the
   product sections and language groups that do not match are hidden, the count (a live
   region) and the heading say what is shown, and the address keeps the choice
   (index.html#lang-ar) for the back button and a bookmark. A page's own file, loaded by
   the page's Content-Security-Policy (script-src 'self'): no inline script, no eval, no
   request. It works from file:// as from a web server. */
(function () {
  "use strict";

  var nav = document.querySelector("nav.filters[data-in-place]");
  if (!nav) {
    return;
  }
  var links = Array.prototype.slice.call(nav.querySelectorAll("a[data-slug]"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.product"));
  var count = document.querySelector("main .count");
  var heading = document.querySelector("h1");
  var allHeading = heading.textContent;
  var allTitle = document.title;

  function linkFor(slug) {
    return links.filter(function (a) { return a.dataset.slug === slug; })[0] || links[0];
  }

  function show(link) {
    var field = link.dataset.field;
    var value = link.dataset.value;
    var shown = 0;
    sections.forEach(function (section) {
      var any = false;
      section.querySelectorAll(".lang-group").forEach(function (group) {
        var match = !field || (field === "lang" ? group.dataset.lang === value : section.dataset[field] === value);
        group.hidden = !match;
        if (match) {
          any = true;
          shown += group.querySelectorAll(".file").length;
        }
      });
      section.hidden = !any;
    });
    links.forEach(function (a) {
      if (a === link) {
        a.setAttribute("aria-current", "page");
      } else {
        a.removeAttribute("aria-current");
      }
    });
    heading.textContent = field ? allHeading + ": " + link.textContent : allHeading;
    document.title = allTitle.replace(allHeading, heading.textContent);
    count.textContent = count.dataset.template.replace("{count}", String(shown));
  }

  function fromAddress() {
    show(linkFor(decodeURIComponent(location.hash.slice(1))));
  }

  nav.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-slug]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;   // a new tab or window: the link's own page
    }
    event.preventDefault();
    var slug = link.dataset.slug;
    if (slug) {
      location.hash = slug;   // hashchange shows it
    } else {
      history.pushState(null, "", location.pathname + location.search);
      show(link);
    }
  });
  window.addEventListener("hashchange", fromAddress);
  window.addEventListener("popstate", fromAddress);
  if (location.hash) {
    fromAddress();
  }
})();
