(function () {
  var priority = document.getElementById('filter-priority');
  var theme = document.getElementById('filter-theme');
  var status = document.getElementById('filter-status');
  var tiles = Array.prototype.slice.call(document.querySelectorAll('.tile'));
  function apply() {
    var shown = 0;
    tiles.forEach(function (tile) {
      var visible = (priority.value === 'all' || tile.dataset.priority === priority.value) &&
                    (theme.value === 'all' || tile.dataset.theme === theme.value);
      tile.hidden = !visible;
      if (visible) { shown += 1; }
    });
    status.textContent = 'Showing ' + shown + ' of ' + tiles.length + ' indicators.';
  }
  priority.addEventListener('change', apply);
  theme.addEventListener('change', apply);
  apply();
  // an exception's link shows its tile even when a filter had hidden it
  Array.prototype.forEach.call(document.querySelectorAll('.exception a'), function (link) {
    link.addEventListener('click', function () { priority.value = 'all'; theme.value = 'all'; apply(); });
  });
  // on paper every information panel is open (CSS does it too; this is for browsers without ::details-content)
  var closed = [];
  window.addEventListener('beforeprint', function () {
    closed = Array.prototype.filter.call(document.querySelectorAll('details'), function (d) { return !d.open; });
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener('afterprint', function () { closed.forEach(function (d) { d.open = false; }); closed = []; });
})();
