/* Lianqing without signal: the service worker, and the phone's queue of contacts logged offline.

   data-lq-offline-form              a contact form (quick log, batch log) that, with no network,
                                     is kept on the phone (IndexedDB) instead of being sent
   data-lq-outbox                    the "待同步 N 条" banner (base.html), with its parts:
     data-lq-outbox-count            the count (data-text-one: the text, N replaced)
     data-lq-outbox-state            what is happening (data-offline, data-syncing, data-login)
     data-lq-outbox-failed           entries the server refused, each with its reason
     data-lq-outbox-retry            a button to send now

   Exactly once: every submission carries a client key (a fresh random id per page load and per
   queued entry); the server keeps one contact per user and key and answers a key it has seen
   with the first result. Queued entries are sent when the connection returns, one tab at a time
   (Web Locks), and removed only when the server has answered for them. An entry the server
   refuses (a youth unlinked since, a date past the allowed back-dating) stays, with the reason,
   until the cadre discards it: nothing is lost silently. Entries belong to the login that made
   them and are sent only in that login's session. */
(function () {
  "use strict";

  var user = document.body.getAttribute("data-lq-user") || "";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    if (!user && navigator.serviceWorker.controller) {
      // Logged out: the previous login's pages leave the phone (its queue stays, for later).
      navigator.serviceWorker.controller.postMessage("lq-forget");
    }
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function localToday() {
    var d = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  var forms = document.querySelectorAll("form[data-lq-offline-form]");

  // A page may come from the cache, drawn days ago: a fresh key (a key already used would make
  // the server answer with that old contact) and today's date rather than that day's.
  function freshen() {
    var today = localToday();
    forms.forEach(function (form) {
      var key = form.querySelector("[name=client_key]");
      if (key) {
        key.value = newKey();
      }
      var date = form.querySelector("input[name=date]");
      if (date && date.max && date.max < today) {
        if (date.value === date.max) {
          date.value = today;
        }
        date.max = today;
      }
    });
  }
  freshen();
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      freshen();
      document.querySelectorAll("form[data-lq-offline-form] [type=submit]").forEach(function (b) {
        b.disabled = false;
      });
    }
  });

  if (!("indexedDB" in window)) {
    return;
  }

  // --- The queue (IndexedDB "lianqing", store "outbox", one entry per contact) ---

  function db() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("lianqing", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("outbox", { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function store(mode, work) {
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var tx = database.transaction("outbox", mode);
        var result = work(tx.objectStore("outbox"));
        tx.oncomplete = function () { resolve(result && result.result); database.close(); };
        tx.onerror = function () { reject(tx.error); database.close(); };
      });
    });
  }

  function entries() {
    return store("readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).filter(function (e) { return e.user === user; })
        .sort(function (a, b) { return a.created - b.created; });
    });
  }
  function put(entry) { return store("readwrite", function (s) { return s.put(entry); }); }
  function remove(key) { return store("readwrite", function (s) { return s.delete(key); }); }

  var channel = "BroadcastChannel" in window ? new BroadcastChannel("lq-outbox") : null;
  function changed() {
    if (channel) {
      channel.postMessage("changed");
    }
    return render();
  }
  if (channel) {
    channel.onmessage = function () { render(); };
  }

  // --- The banner ---

  var banner = document.querySelector("[data-lq-outbox]");
  var state = "";

  function render() {
    if (!banner || !user) {
      return Promise.resolve();
    }
    return entries().then(function (all) {
      var count = banner.querySelector("[data-lq-outbox-count]");
      var note = banner.querySelector("[data-lq-outbox-state]");
      var failed = banner.querySelector("[data-lq-outbox-failed]");
      var retry = banner.querySelector("[data-lq-outbox-retry]");
      banner.classList.toggle("d-none", all.length === 0);
      count.textContent = count.getAttribute("data-text-one").replace("N", String(all.length));
      var waiting = all.filter(function (e) { return !e.error; }).length;
      var text = "";
      if (!navigator.onLine) {
        text = note.getAttribute("data-offline");
      } else if (state) {
        text = note.getAttribute("data-" + state) || "";
      }
      note.textContent = text;
      retry.classList.toggle("d-none", !navigator.onLine || waiting === 0 || state === "syncing");
      failed.textContent = "";
      all.filter(function (e) { return e.error; }).forEach(function (e) {
        var li = document.createElement("li");
        li.className = "d-flex gap-2 align-items-center py-1 border-top";
        var span = document.createElement("span");
        span.textContent = e.label + " · " + failed.getAttribute("data-refused") + e.error;
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-sm btn-outline-danger ms-auto flex-shrink-0";
        button.textContent = failed.getAttribute("data-discard");
        button.setAttribute("data-lq-outbox-discard", e.key);
        li.appendChild(span);
        li.appendChild(button);
        failed.appendChild(li);
      });
    });
  }

  document.addEventListener("click", function (event) {
    var discard = event.target.closest("[data-lq-outbox-discard]");
    if (discard) {
      remove(discard.getAttribute("data-lq-outbox-discard")).then(changed);
    }
    if (event.target.closest("[data-lq-outbox-retry]")) {
      sync();
    }
  });

  // --- Keeping a contact on the phone ---

  function describe(form) {
    var names = [];
    form.querySelectorAll("input[name=youth]:checked, input[name=youths]:checked").forEach(function (input) {
      var label = input.closest("[data-name]");
      names.push(label ? label.getAttribute("data-name") : input.value);
    });
    var picked = form.querySelector("input[name=channel]:checked");
    var channelLabel = picked ? form.querySelector("label[for='" + picked.id + "']") : null;
    var date = form.querySelector("input[name=date]");
    return (date ? date.value + " " : "") + names.join("、") +
      (channelLabel ? "（" + channelLabel.textContent.trim() + "）" : "");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-lq-offline-form]");
    if (!form || event.defaultPrevented) {
      return;
    }
    if (navigator.onLine || !user) {
      // Sent now: a second tap while the page changes sends nothing more (the client key would
      // make it one contact anyway; this saves the request).
      window.setTimeout(function () {
        form.querySelectorAll("[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
      return;
    }
    event.preventDefault();
    var data = new FormData(form);
    var key = newKey();
    data.set("client_key", key);
    var entry = {
      key: key,
      user: user,
      url: new URL(form.action, window.location.href).pathname,
      fields: Array.from(data.entries()).filter(function (pair) { return typeof pair[1] === "string"; }),
      label: describe(form),
      created: Date.now(),
      error: "",
    };
    put(entry).then(function () {
      form.reset();
      freshen();
      window.scrollTo(0, 0);
      return changed();
    });
  });

  // --- Sending when the connection returns ---

  function csrfToken() {
    var field = document.querySelector("[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function withLock(work) {
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request("lq-outbox", work);
    }
    return work();
  }

  function sendOne(entry) {
    var body = new URLSearchParams();
    var token = csrfToken();
    entry.fields.forEach(function (pair) {
      body.append(pair[0], pair[0] === "csrfmiddlewaretoken" && token ? token : pair[1]);
    });
    return fetch(entry.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
      headers: { "X-Lianqing-Sync": "1", "X-CSRFToken": token },
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 403) {
        return "login";
      }
      return response.json().then(function (answer) {
        if (response.ok && answer.ok) {
          return remove(entry.key).then(function () { return "sent"; });
        }
        if (response.status === 422) {
          entry.error = answer.message || "";
          return put(entry).then(function () { return "refused"; });
        }
        return "later";
      }, function () { return "later"; });
    }, function () { return "later"; });
  }

  var syncing = false;
  function sync() {
    if (!navigator.onLine || !user || syncing) {
      return Promise.resolve();
    }
    syncing = true;
    return withLock(function () {
      return entries().then(function (all) {
        var pending = all.filter(function (e) { return !e.error; });
        if (!pending.length) {
          return null;
        }
        state = "syncing";
        render();
        // One after the other, in the order they were logged; stop at the first "not now".
        return pending.reduce(function (chain, entry) {
          return chain.then(function (outcome) {
            if (outcome === "login" || outcome === "later") {
              return outcome;
            }
            return sendOne(entry);
          });
        }, Promise.resolve("sent"));
      });
    }).then(function (outcome) {
      state = outcome === "login" ? "login" : "";
    }, function () {
      state = "";
    }).then(function () {
      syncing = false;
      return changed();
    });
  }

  window.addEventListener("online", sync);
  window.addEventListener("offline", render);
  render().then(sync);
})();
