// Verifies one webhook delivery of dtr's portal plugin with the official
// Standard Webhooks library (npm standardwebhooks), as a subscriber would.
// Reads {"secret", "headers": {...}, "body"} as JSON on stdin; prints the
// verified payload as JSON and exits 0, or prints why and exits 1.
"use strict";
const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { secret, headers, body } = JSON.parse(input);
  try {
    const payload = new Webhook(secret).verify(body, headers);
    process.stdout.write(JSON.stringify(payload) + "\n");
  } catch (e) {
    process.stdout.write("refused: " + e.message + "\n");
    process.exit(1);
  }
});
