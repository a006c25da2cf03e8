// Fills the sign-up form's time zone with the browser's own. Without JavaScript the
// server's default stays selected, and the form works the same.
(function () {
  var select = document.querySelector('select[data-detect-zone]');
  if (!select || typeof Intl === 'undefined') return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (var i = 0; i < select.options.length; i += 1) {
    if (select.options[i].value === zone) {
      select.value = zone;
      return;
    }
  }
})();
