{% load static %}/* Lianqing service worker (served by config.views.service_worker at /sw.js, scope /).

   What a cadre needs in a township without signal opens from the cache: the home page, quick
   log, batch log, their youths and their contacts (network first: always fresh when online,
   the last copy when not); so are the static files they use. Nothing else is cached: staff pages and public forms always go to the
   network. Contacts logged offline are kept by offline.js in IndexedDB, not here.
   Rendered as a template so that the static URLs are the deployment's own. */
"use strict";

const VERSION = "{{ version }}";
const PAGES = "lq-pages-" + VERSION;
const STATIC = "lq-static-" + VERSION;
const SHELL = [
  "{% static 'vendor/bootstrap-5.3.9/css/bootstrap.min.css' %}",
  "{% static 'vendor/bootstrap-5.3.9/js/bootstrap.bundle.min.js' %}",
  "{% static 'lianqing/lianqing.css' %}",
  "{% static 'lianqing/lianqing.js' %}",
  "{% static 'lianqing/offline.js' %}",
  "{% static 'contacts/contacts.css' %}",
  "{% static 'contacts/quick_log.js' %}",
  "{% static 'lianqing/icons/icon-192.png' %}",
  "{% static 'lianqing/icons/favicon.ico' %}",
];
// The cadre's pages that open offline (paths, query strings ignored).
const OFFLINE_PAGES = [{% for p in offline_pages %}"{{ p|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];
const STATIC_PREFIX = "{{ static_prefix|escapejs }}";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(STATIC).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== PAGES && k !== STATIC).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  // offline.js on a page of nobody logged in: forget the last user's pages.
  if (event.data === "lq-forget") {
    event.waitUntil(caches.delete(PAGES));
  }
});

function offlinePage(url) {
  return OFFLINE_PAGES.includes(url.pathname);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  // Network first, the last copy when there is no network: fresh whenever online (a new
  // deployment's files and pages at once), usable when not.
  if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(networkThenCache(request, STATIC, request.url, () => Response.error()));
    return;
  }
  if (request.mode === "navigate" && offlinePage(url)) {
    event.respondWith(networkThenCache(request, PAGES, url.pathname, offlineFallback));
  }
});

function networkThenCache(request, cacheName, key, fallback) {
  return fetch(request).then((response) => {
    // Only what the server answered itself (a page of a logged-in user, not a redirect to login).
    if (response.ok && !response.redirected) {
      const copy = response.clone();
      caches.open(cacheName).then((cache) => cache.put(key, copy));
    }
    return response;
  }).catch(() => caches.open(cacheName).then((cache) => cache.match(key)).then((hit) => hit || fallback()));
}

function offlineFallback() {
  return new Response(
    "<!doctype html><html lang=\"zh-hans\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>离线</title>" +
    "<h1>当前没有网络</h1><p>这个页面还没有保存到手机上。联网后打开一次“首页”“记录联系”，以后没有信号时也能使用。</p><p><a href=\"/\">返回首页</a></p>",
    { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
  );
}
