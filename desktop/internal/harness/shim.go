package harness

// shimJS defines window.go.bridge.App and window.runtime before the app's
// scripts run. __METHODS__ is replaced by the JSON list of bridge methods.
//
// Faithful to Wails v2 where the UI can tell: every method returns a
// promise that resolves with the result or rejects with {kind, message};
// event listeners get the emitted data as arguments; EventsOnMultiple
// returns an unsubscribe function and counts maxCallbacks (-1: forever);
// EventsEmit from JS reaches JS listeners. Calls wait until the event
// stream is open, so no event a call causes can be missed.
const shimJS = `(function () {
  "use strict";
  var methods = __METHODS__;
  var listeners = {};
  var markReady;
  var ready = new Promise(function (resolve) { markReady = resolve; });
  // An EventSource that never opens must not hang every call.
  setTimeout(function () { markReady(); }, 5000);

  function notify(name, data) {
    var ls = listeners[name];
    if (!ls) return;
    ls.slice().forEach(function (l) {
      if (l.max === 0) return;
      if (l.max > 0) l.max--;
      if (l.max === 0) remove(name, l);
      try { l.cb.apply(null, data); } catch (e) { console.error(e); }
    });
  }
  function remove(name, l) {
    var ls = listeners[name];
    if (!ls) return;
    var i = ls.indexOf(l);
    if (i >= 0) ls.splice(i, 1);
    if (ls.length === 0) delete listeners[name];
  }

  var es = new EventSource("/harness/events");
  es.onopen = function () { markReady(); };
  es.onmessage = function (m) {
    var ev;
    try { ev = JSON.parse(m.data); } catch (e) { return; }
    notify(ev.name, ev.data || []);
  };

  function call(method, args) {
    return ready.then(function () {
      return fetch("/bridge/" + method, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(args),
      }).catch(function (e) {
        throw { kind: "unavailable", message: "The harness is not reachable: " + e };
      });
    }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = text; }
        if (!res.ok) {
          if (body && typeof body === "object" && "kind" in body) throw body;
          throw { kind: "internal", message: String(body || res.statusText) };
        }
        return body;
      });
    });
  }

  var app = {};
  methods.forEach(function (m) {
    app[m] = function () { return call(m, Array.prototype.slice.call(arguments)); };
  });
  window.go = window.go || {};
  window.go.bridge = window.go.bridge || {};
  window.go.bridge.App = app;

  function log(level) {
    return function (message) { console[level]("[runtime]", message); };
  }
  window.runtime = {
    EventsOnMultiple: function (name, cb, max) {
      var l = { cb: cb, max: max === undefined ? -1 : max };
      (listeners[name] = listeners[name] || []).push(l);
      return function () { remove(name, l); };
    },
    EventsOn: function (name, cb) { return window.runtime.EventsOnMultiple(name, cb, -1); },
    EventsOnce: function (name, cb) { return window.runtime.EventsOnMultiple(name, cb, 1); },
    EventsOff: function (name) {
      Array.prototype.slice.call(arguments).forEach(function (n) { delete listeners[n]; });
    },
    EventsOffAll: function () { listeners = {}; },
    EventsEmit: function (name) { notify(name, Array.prototype.slice.call(arguments, 1)); },
    LogPrint: log("log"), LogTrace: log("debug"), LogDebug: log("debug"), LogInfo: log("info"),
    LogWarning: log("warn"), LogError: log("error"), LogFatal: log("error"),
    WindowReload: function () { location.reload(); },
    WindowReloadApp: function () { location.reload(); },
    WindowSetTitle: function (t) { document.title = t; },
    Environment: function () { return Promise.resolve({ buildType: "harness", platform: "linux", arch: "amd64" }); },
    BrowserOpenURL: function (url) { window.open(url, "_blank", "noopener"); },
    ClipboardGetText: function () { return navigator.clipboard ? navigator.clipboard.readText() : Promise.resolve(""); },
    ClipboardSetText: function (t) {
      return navigator.clipboard ? navigator.clipboard.writeText(t).then(function () { return true; }) : Promise.resolve(false);
    },
    Quit: function () {}, Hide: function () {}, Show: function () {},
  };
  window.__lockstepHarness = true;
})();
`
