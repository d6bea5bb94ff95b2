// The device UI: the LEDs from /api/leds (toggled with PUT /api/leds/{id}), the uptime and a
// chart of tick intervals from the /events stream (Server-Sent Events), and a firmware
// update posted to /ota as multipart/form-data with its upload progress.
"use strict";

const $ = (id) => document.getElementById(id);
const list = $("leds");

function render(leds) {
  list.replaceChildren(...leds.map((led) => {
    const item = document.createElement("li");
    item.id = "led-" + led.id;
    item.className = led.on ? "on" : "off";
    const label = document.createElement("span");
    label.textContent = "LED " + led.id + " is " + (led.on ? "on" : "off");
    const button = document.createElement("button");
    button.textContent = led.on ? "Turn off" : "Turn on";
    button.onclick = () => toggle(led);
    item.append(label, button);
    return item;
  }));
}

async function load() {
  const response = await fetch("/api/leds");
  render(await response.json());
}

async function toggle(led) {
  const response = await fetch("/api/leds/" + led.id, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ on: !led.on }),
  });
  if (response.ok) {
    await load();
  }
}

function formatUptime(ms) {
  const s = Math.floor(ms / 1000);
  return Math.floor(s / 60) + " min " + (s % 60) + " s (" + ms + " ms)";
}

// The chart: the last 60 intervals between ticks, the newest on the right, as an SVG
// polyline on a scale from 0 to a quarter above the largest.
const intervals = [];
const KEEP = 60;
let lastUptime = null;

function plot() {
  const width = 300, height = 80;
  const top = Math.ceil(Math.max(...intervals, 1) * 1.25);
  const step = width / (KEEP - 1);
  const first = KEEP - intervals.length;
  $("chart-line").setAttribute("points", intervals.map((v, i) =>
    ((first + i) * step).toFixed(1) + "," + (height - (v / top) * height).toFixed(1)).join(" "));
  $("chart-max").textContent = top + " ms";
  $("chart-count").textContent = intervals.length;
  $("chart-last").textContent = intervals[intervals.length - 1] + " ms";
}

const events = new EventSource("/events?interval_ms=500");
events.addEventListener("tick", (event) => {
  const uptime = JSON.parse(event.data).uptime_ms;
  $("uptime").textContent = formatUptime(uptime);
  if (lastUptime !== null && uptime >= lastUptime) {
    intervals.push(uptime - lastUptime);
    if (intervals.length > KEEP) {
      intervals.shift();
    }
    plot();
  }
  lastUptime = uptime;
});

// CRC-32 (IEEE, as zlib's), to check the device's answer against the file.
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) {
    c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}

function say(text, kind) {
  const status = $("ota-status");
  status.textContent = text;
  status.className = "wide " + (kind || "");
}

$("ota").addEventListener("submit", (event) => {
  event.preventDefault();
  const file = $("ota-file").files[0];
  if (!file) {
    say("Choose an image first.", "bad");
    return;
  }
  const form = new FormData();
  form.append("firmware", file, file.name);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/ota");
  // Sent with the upload, so the device does not refuse it with 401 after the first try.
  xhr.setRequestHeader("Authorization",
    "Basic " + btoa($("ota-user").value + ":" + $("ota-password").value));
  const progress = $("ota-progress");
  progress.value = 0;
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) {
      progress.value = e.loaded / e.total;
      say("Uploading… " + Math.round(100 * e.loaded / e.total) + " %");
    }
  };
  xhr.onerror = () => say("The upload failed: the connection closed.", "bad");
  xhr.onload = async () => {
    if (xhr.status !== 200) {
      say("The device refused the image: " + xhr.status + " " + xhr.responseText, "bad");
      return;
    }
    progress.value = 1;
    const answer = JSON.parse(xhr.responseText);
    const local = crc32(new Uint8Array(await file.arrayBuffer()));
    const same = local === answer.crc32 && answer.bytes === file.size;
    say("Received " + answer.bytes + " bytes, CRC-32 " + answer.crc32 +
      (same ? " (matches the file)" : " (the file's is " + local + ": it does not match)"),
      same ? "good" : "bad");
  };
  $("ota-send").disabled = true;
  xhr.onloadend = () => { $("ota-send").disabled = false; };
  say("Uploading…");
  xhr.send(form);
});

load();
