// Placeholder for the device UI's script: list the LEDs from /api/leds, toggle them with PUT,
// show the uptime from /events.
"use strict";
document.getElementById("uptime").textContent = "loading";
