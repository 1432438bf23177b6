// Sorting and filtering of the report's tables. The page is complete without it: rows are
// already in a sensible order and printed in full. Only textContent and attributes are
// read and written here, never markup, so capture text cannot become code.
(function () {
  'use strict';
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function sortKey(cell, numeric) {
    var v = cell ? cell.getAttribute('data-v') : null;
    if (v === null) { v = cell ? cell.textContent : ''; }
    if (numeric) { var n = parseFloat(v); return isNaN(n) ? -Infinity : n; }
    return v.toLowerCase();
  }

  each(document.querySelectorAll('table.sortable'), function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    var heads = table.tHead.rows[0].cells;
    each(heads, function (th, col) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'sort';
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener('click', function () {
        var numeric = th.getAttribute('data-type') === 'num';
        var current = th.getAttribute('aria-sort');
        // Numbers first sort biggest first: that is the question a reader asks.
        var ascending = current ? current === 'descending' : !numeric;
        each(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = sortKey(a.cells[col], numeric);
          var y = sortKey(b.cells[col], numeric);
          var c = x < y ? -1 : (x > y ? 1 : 0);
          return ascending ? c : -c;
        });
        each(rows, function (r) { body.appendChild(r); });
      });
    });
  });

  each(document.querySelectorAll('.table-tools'), function (tools) {
    var table = document.getElementById(tools.getAttribute('data-for'));
    var input = tools.querySelector('input');
    var count = tools.querySelector('.count');
    if (!table || !input || !table.tBodies.length) { return; }
    var rows = table.tBodies[0].rows;
    var update = function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      each(rows, function (r) {
        var hit = !q || r.textContent.toLowerCase().indexOf(q) >= 0;
        r.hidden = !hit;
        if (hit) { shown += 1; }
      });
      if (count) { count.textContent = shown + ' of ' + rows.length + ' rows'; }
    };
    input.addEventListener('input', update);
    tools.hidden = false;
    update();
  });
}());
