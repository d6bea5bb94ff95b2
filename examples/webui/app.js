// The device UI: the LEDs from /api/leds (toggled with PUT /api/leds/{id}) and the uptime
// from the /events stream (Server-Sent Events).
"use strict";

const list = document.getElementById("leds");

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

const events = new EventSource("/events?interval_ms=500");
events.addEventListener("tick", (event) => {
  document.getElementById("uptime").textContent = formatUptime(JSON.parse(event.data).uptime_ms);
});

load();
