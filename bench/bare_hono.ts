/** The cold-start reference: a bare Hono app that answers "ok", served like serve/main.ts. */
import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.text("ok"));
Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.env.get("PORT") ?? 8000),
  onListen: () => {},
}, app.fetch);
