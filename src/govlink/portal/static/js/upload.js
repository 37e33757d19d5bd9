// Upload a department's file with a progress bar: the file is the request body of a PUT, so the server can
// refuse it while it streams in; the page's CSRF token goes in a header (double submit, as the forms do).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("upload-form");
    if (!form) { return; }
    var bar = document.getElementById("upload-progress");
    var status = document.getElementById("upload-status");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = document.getElementById("upload-file").files[0];
      if (!file) { return; }
      var params = new URLSearchParams({ file_name: file.name });
      ["encoding", "sheet", "header_row"].forEach(function (name) {
        var value = form.elements[name].value.trim();
        if (value) { params.set(name, value); }
      });
      var xhr = new XMLHttpRequest();
      xhr.open(form.dataset.method || "PUT", form.dataset.url + "?" + params.toString());
      xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
      xhr.setRequestHeader("Accept", "application/json");
      bar.hidden = false;
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) {
          bar.value = Math.round(100 * e.loaded / e.total);
          status.textContent = status.dataset.sending + " " + bar.value + "%";
        }
      };
      xhr.upload.onload = function () { bar.removeAttribute("value"); status.textContent = status.dataset.processing; };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = {}; }
        bar.hidden = true;
        if (xhr.status >= 200 && xhr.status < 300) {
          var link = document.createElement("a");
          link.href = "/data/" + encodeURIComponent(body.resource) + "/versions/" + body.version;
          link.textContent = (body.unchanged ? status.dataset.unchanged : status.dataset.published) + " " + body.version;
          status.textContent = "";
          status.appendChild(link);
          status.appendChild(document.createTextNode(" — " + status.dataset.counts + ": " + body.rows_read +
            " / " + body.rows_accepted + " / " + body.rows_quarantined));
        } else {
          var detail = (body.error && body.error.message) || body.detail || xhr.statusText;
          status.textContent = status.dataset.failed + ": " + detail;
        }
      };
      xhr.onerror = function () { bar.hidden = true; status.textContent = status.dataset.failed; };
      xhr.send(file);
    });
  });
}());
