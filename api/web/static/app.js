// Progressive enhancement only: every page works without this file. With it, htmx (hx-boost) updates
// pages in place; this script moves focus after a swap and shows the progress of an upload.
'use strict';
(function () {
  // After htmx swapped a page in: focus the error summary when there is one, else the main content,
  // so keyboard and screen-reader users land where the change is (as after a full page load).
  document.addEventListener('htmx:afterSettle', function (evt) {
    var summary = document.querySelector('[data-error-summary]');
    if (summary) { summary.focus(); return; }
    // A verdict updated the dossier in place: on to the next document that still needs one.
    if (evt.detail && evt.detail.target && evt.detail.target.id === 'dossier') {
      var next = document.querySelector('#dossier button[name="verdict"]') || document.getElementById('documenten-kop');
      if (next) next.focus();
      return;
    }
    if (evt.detail && evt.detail.boosted) {
      var main = document.getElementById('inhoud');
      if (main) main.focus();
    }
  });
  // Upload progress (htmx fires htmx:xhr:progress on the form while the body is being sent).
  document.addEventListener('htmx:xhr:progress', function (evt) {
    var form = evt.target && evt.target.closest ? evt.target.closest('form[data-upload]') : null;
    if (!form || !evt.detail.lengthComputable) return;
    var box = form.querySelector('[data-progress]');
    var bar = form.querySelector('progress');
    var label = form.querySelector('[data-progress-text]');
    var pct = Math.round((evt.detail.loaded / evt.detail.total) * 100);
    if (box) box.hidden = false;
    if (bar) { bar.value = pct; bar.textContent = pct + '%'; }
    if (label) label.textContent = pct < 100 ? pct + '% verstuurd' : 'Verstuurd; het document wordt opgeslagen…';
  });
  // A link in the error summary puts the focus in its field, not only the scroll position.
  document.addEventListener('click', function (evt) {
    var link = evt.target && evt.target.closest ? evt.target.closest('[data-error-summary] a[href^="#"]') : null;
    if (!link) return;
    var field = document.getElementById(link.getAttribute('href').slice(1));
    if (!field) return;
    evt.preventDefault();
    field.focus();
  });
  // Focus the error summary after a full page load too.
  document.addEventListener('DOMContentLoaded', function () {
    var summary = document.querySelector('[data-error-summary]');
    if (summary) summary.focus();
  });
})();
