/**
 * The reference for serving speed and cold start: a bare Hono app that answers "ok" at `/`,
 * served like serve/main.ts.
 *
 * With REPLAY naming a JSON file of recorded responses (`[{ status, headers, body }]`, body in
 * base64, as the bench records them from edgegan), it also answers `/replay/<i>` with response
 * i: the same bytes and headers (a fresh X-Request-Id each time), prepared once and cloned. That
 * is the ceiling for those responses on this platform: what Hono and Deno cost to send them with
 * no work of edgegan's around.
 */
import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.text("ok"));

const replay = Deno.env.get("REPLAY");
if (replay) {
  const recorded: { status: number; headers: [string, string][]; body: string }[] = JSON.parse(
    Deno.readTextFileSync(replay),
  );
  recorded.forEach(({ status, headers, body }, i) => {
    const bytes = Uint8Array.from(atob(body), (ch) => ch.charCodeAt(0));
    const template = new Response(bytes, { status });
    for (const [name, value] of headers) {
      if (name.toLowerCase() !== "x-request-id") template.headers.append(name, value);
    }
    app.get(`/replay/${i}`, () => {
      const res = template.clone();
      res.headers.append("X-Request-Id", crypto.randomUUID());
      return res;
    });
  });
}

Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.env.get("PORT") ?? 8000),
  onListen: () => {},
}, app.fetch);
