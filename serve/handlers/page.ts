/** GET /: the page, a grid of samples, a walk, and pickers for the model and the digit. */
import type { Hono } from "hono";
import { PAGE_PARAMS } from "../params.ts";
import { freshSeed } from "../../random/seeded.ts";
import { query } from "../errors.ts";
import { renderPage } from "../page.ts";
import { IMMUTABLE } from "../respond.ts";
import { reply } from "../headers.ts";
import type { ServedSet } from "../served.ts";

export function mountPage(app: Hono, models: ServedSet): void {
  app.get("/", async (c) => {
    const q = query(c, PAGE_PARAMS);
    const entry = models.entryFor(q.model);
    const state = await entry.settled();
    models.checkLabel(state, q.label);
    const seed = q.seed ?? freshSeed();
    // The picker lists the models the page can draw (images, 2-D points); another model's page
    // says why it has no picture.
    const pickable = [...models.entries.values()].filter((e) =>
      e.state?.ready && (e.state.sampler.isImage || e.state.sampler.isPoints)
    )
      .map((e) => e.name);
    return reply(
      renderPage(
        state.ready ? state.sampler : undefined,
        {
          seed,
          label: q.label,
          model: q.model,
          models: models.entries.size > 1 ? pickable : [],
          current: entry.name,
        },
        state.ready ? undefined : state.reason,
      ),
      200,
      {
        "Content-Type": "text/html; charset=UTF-8",
        "Cache-Control": q.seed === undefined ? "no-store" : IMMUTABLE,
      },
    );
  });
}
